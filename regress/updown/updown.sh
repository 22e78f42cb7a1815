#! /usr/bin/env atf-sh
#
# castra up and castra down end to end: a private castrad, the default
# guest image, real guests under QEMU, the real broker.  Every path is
# under the test case's own directory.

. "$(atf_get_srcdir)/../project.subr"

atf_test_case up_wait_reachable cleanup
up_wait_reachable_head()
{
	atf_set "descr" "up --wait returns with the guest reachable;" \
	    "down stops it and removes its overlay"
	atf_set "timeout" "240"
}
up_wait_reachable_body()
{
	solo_project
	atf_check -o match:"solo: reachable" -o match:"is up" \
	    $CASTRA up --wait
	check_status "s['reachable']" "True"
	check_status "s['last_handshake_vm']" "solo"
	age=$(status_field "s['last_handshake_age_ms']")
	[ "$age" -ge 0 ] && [ "$age" -le 45000 ] ||
	    atf_fail "last_handshake_age_ms is $age"
	check_status "s['vms'][0]['state']" "running"
	check_status "s['vms'][0]['broker']" "reachable"
	check_status "s['broker']['state']" "listening"
	root=$(state_root)
	[ -f "$root/overlays/solo.qcow2" ] || atf_fail "no overlay"

	atf_check -o match:"solo: stopped" -o match:"is down" $CASTRA down
	[ -f "$root/overlays/solo.qcow2" ] && atf_fail "the overlay is left"
	check_status "s['vms'][0]['state']" "stopped"
}
up_wait_reachable_cleanup()
{
	stop_projects
}

atf_test_case up_twice cleanup
up_twice_head()
{
	atf_set "descr" "up on a running project says so and changes nothing"
	atf_set "timeout" "240"
}
up_twice_body()
{
	solo_project
	atf_check -o ignore $CASTRA up --wait
	root=$(state_root)
	pid=$(json_get "$root/vms/solo.json" pid)
	atf_check -o match:"already up" $CASTRA up
	[ "$(json_get "$root/vms/solo.json" pid)" = "$pid" ] ||
	    atf_fail "a second up replaced the VM"
	atf_check -o ignore $CASTRA down
}
up_twice_cleanup()
{
	stop_projects
}

atf_test_case overlay_discarded cleanup
overlay_discarded_head()
{
	atf_set "descr" "what the guest writes is gone after down and up;" \
	    "the base image never changes"
	atf_set "timeout" "300"
}
overlay_discarded_body()
{
	solo_project
	base=$(ls "$builddir/image/rootfs.qcow2")
	before=$(sha256sum "$base" | cut -d' ' -f1)
	for round in 1 2; do
		atf_check -o ignore $CASTRA up --wait
		root=$(state_root)
		bus="$root/logs/bus/bus.log"
		wait_for 30 "grep -q '\"boots\":1' '$bus' 2>/dev/null" ||
		    atf_fail "round $round: no boot message with boots 1" \
		    "in logs/bus/bus.log"
		grep -q '"boots":2' "$root/logs/bus/bus.log" &&
		    atf_fail "the guest saw the previous boot's disk"
		atf_check -o ignore $CASTRA down
		rm -f "$root/logs/bus/bus.log"
	done
	[ "$(sha256sum "$base" | cut -d' ' -f1)" = "$before" ] ||
	    atf_fail "the base image changed"
	for f in home/images/sha256/*; do
		case "$f" in *.json) continue ;; esac
		[ "$(sha256sum "$f" | cut -d' ' -f1)" = "${f##*/}" ] ||
		    atf_fail "cached $f no longer matches its name"
	done
}
overlay_discarded_cleanup()
{
	stop_projects
}

atf_test_case down_cooperative cleanup
down_cooperative_head()
{
	atf_set "descr" "down of the default guest needs no signal"
	atf_set "timeout" "240"
}
down_cooperative_body()
{
	solo_project
	atf_check -o ignore $CASTRA up --wait
	atf_check -o match:"solo: powered off" -o not-match:"SIGTERM" \
	    -o not-match:"SIGKILL" -o match:"discarded" $CASTRA down
}
down_cooperative_cleanup()
{
	stop_projects
}

atf_test_case down_escalates cleanup
down_escalates_head()
{
	atf_set "descr" "a guest that ignores the power button gets SIGTERM"
	atf_set "timeout" "240"
}
down_escalates_body()
{
	setup_project <<'EOF2'
vm "deaf" {
	image "deaf"
}
EOF2
	deaf_image
	atf_check -o ignore $CASTRA up --wait
	root=$(state_root)
	pid=$(json_get "$root/vms/deaf.json" pid)
	atf_check -o match:"deaf: no power-off" -o match:"deaf: sent SIGTERM" \
	    $CASTRA down --graceful-wait 2
	wait_for 5 "gone $pid" || atf_fail "QEMU $pid still runs"
}
down_escalates_cleanup()
{
	stop_projects
}

atf_test_case qemu_killed cleanup
qemu_killed_head()
{
	atf_set "descr" "a QEMU killed with SIGKILL is noticed and cleaned up"
	atf_set "timeout" "240"
}
qemu_killed_body()
{
	solo_project
	atf_check -o ignore $CASTRA up --wait
	root=$(state_root)
	kill -9 "$(json_get "$root/vms/solo.json" pid)"
	wait_status "s['vms'][0]['state']" 10 stopped
	wait_for 10 "[ ! -f '$root/overlays/solo.qcow2' ]" ||
	    atf_fail "the overlay of a dead VM is left"
	atf_check -o inline:"stopped\n" \
	    python3 -c "import json; \
print(json.load(open('$root/vms/solo.json'))['state'])"
}
qemu_killed_cleanup()
{
	stop_projects
}

atf_test_case castrad_restart_adopts cleanup
castrad_restart_adopts_head()
{
	atf_set "descr" "a castrad killed and started again adopts the VMs"
	atf_set "timeout" "300"
}
castrad_restart_adopts_body()
{
	solo_project
	atf_check -o ignore $CASTRA up --wait
	root=$(state_root)
	qemu=$(json_get "$root/vms/solo.json" pid)
	kill -9 "$(castrad_pid)"
	sleep 1
	kill -0 "$qemu" || atf_fail "QEMU died with castrad"
	check_status "s['vms'][0]['state']" "running"
	# A new castrad adopts the VM; no prune takes its images.
	n=$(ls home/images/sha256 | grep -cv json)
	atf_check -o ignore -e ignore $CASTRA image prune
	[ "$(ls home/images/sha256 | grep -cv json)" = "$n" ] ||
	    atf_fail "prune removed an image an adopted VM uses"
	# The castrad that prune started stops the adopted VM.
	atf_check -o match:"solo: powered off" $CASTRA down
	wait_for 5 "gone $qemu" || atf_fail "QEMU $qemu still runs"
	check_status "s['vms'][0]['state']" "stopped"
}
castrad_restart_adopts_cleanup()
{
	stop_projects
}

atf_test_case two_vms_dependency cleanup
two_vms_dependency_head()
{
	atf_set "descr" "two VMs, one started only once the other is" \
	    "reachable"
	atf_set "timeout" "300"
}
two_vms_dependency_body()
{
	setup_project <<'EOF2'
vm "db" {
	image "castra-default"
}
vm "app" {
	image "castra-default"
	depends "db"
}
EOF2
	atf_check -o match:"db: reachable" -o match:"app: reachable" \
	    $CASTRA up --wait
	root=$(state_root)
	db=$(json_get "$root/vms/db.json" first_handshake_at_ms)
	app=$(json_get "$root/vms/app.json" launched_at_ms)
	[ "$app" -ge "$db" ] ||
	    atf_fail "app launched at $app, before db said hello at $db"
	check_status "s['reachable']" "True"
	atf_check -o ignore $CASTRA down
}
two_vms_dependency_cleanup()
{
	stop_projects
}

atf_test_case broker_only cleanup
broker_only_head()
{
	atf_set "descr" "up --broker-only listens without VMs; a later up" \
	    "reuses the listener"
	atf_set "timeout" "240"
}
broker_only_body()
{
	solo_project
	atf_check -o ignore $CASTRA up --broker-only
	check_status "s['broker']['state']" "listening"
	check_status "s['vms'][0]['state']" "stopped"
	root=$(state_root)
	[ -f "$root/overlays/solo.qcow2" ] && atf_fail "an overlay was made"
	atf_check -o match:"^castra-broker 0.1 ready" python3 -c "
import socket
s = socket.create_connection(('127.0.0.1', $port))
print(s.makefile().readline(), end='')"
	atf_check -o match:"solo: reachable" $CASTRA up --wait
	# A host session on the same listener reaches the bus.
	atf_check -o match:"published" \
	    $CASTRA bus publish --topic broadcast --payload '{"hello":1}'
	grep -q '"hello":1' "$root/logs/bus/bus.log" ||
	    atf_fail "the publish is not in logs/bus/bus.log"
	atf_check -o ignore $CASTRA down
}
broker_only_cleanup()
{
	stop_projects
}

atf_test_case preflight_port_in_use cleanup
preflight_port_in_use_head()
{
	atf_set "descr" "up refuses a forward whose host port is taken," \
	    "before anything starts"
	atf_set "timeout" "60"
}
preflight_port_in_use_body()
{
	# The listener takes its port first, so that the broker's, which
	# setup_project picks, cannot be the same.
	python3 -c "
import os, socket, time
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(1)
open('listening.tmp', 'w').write(str(s.getsockname()[1]))
os.rename('listening.tmp', 'listening')
time.sleep(60)" &
	echo $! >listener.pid
	wait_for 5 '[ -f listening ]' || atf_fail "the listener did not start"
	busy=$(cat listening)
	setup_project <<EOF2
vm "solo" {
	image "castra-default"
	forward tcp $busy to 22
}
EOF2
	atf_check -s exit:70 \
	    -e match:"solo: host port tcp 127.0.0.1:$busy is in use" $CASTRA up
	[ -e home/castrad.sock ] && atf_fail "castrad was started anyway"
	return 0
}
preflight_port_in_use_cleanup()
{
	[ -f listener.pid ] && kill "$(cat listener.pid)" 2>/dev/null
	stop_projects
}

atf_test_case image_override_raw cleanup
image_override_raw_head()
{
	atf_set "descr" "up --image boots a raw disk of the user's, named" \
	    "relative to the current directory, with the image's kernel"
	atf_set "timeout" "240"
}
image_override_raw_body()
{
	solo_project
	atf_check qemu-img convert -O raw "$builddir/image/rootfs.qcow2" \
	    disk.raw
	atf_check -o match:"solo: reachable" $CASTRA up --wait --image disk.raw
	root=$(state_root)
	atf_check -o match:"backing file format: raw" \
	    qemu-img info -U "$root/overlays/solo.qcow2"
	atf_check -o ignore $CASTRA down
}
image_override_raw_cleanup()
{
	stop_projects
}

atf_init_test_cases()
{
	atf_add_test_case image_override_raw
	atf_add_test_case preflight_port_in_use
	atf_add_test_case up_wait_reachable
	atf_add_test_case up_twice
	atf_add_test_case overlay_discarded
	atf_add_test_case down_cooperative
	atf_add_test_case down_escalates
	atf_add_test_case qemu_killed
	atf_add_test_case castrad_restart_adopts
	atf_add_test_case two_vms_dependency
	atf_add_test_case broker_only
}
