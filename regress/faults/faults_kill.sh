#! /usr/bin/env atf-sh
#
# SIGKILL of castrad, of each of its children and of a QEMU, at rest and
# in the middle of up and down.  After each: one QEMU per running VM and
# none for a stopped one, no overlay of a stopped VM, castra status
# truthful, the image cache intact, and the next up and down work.

. "$(atf_get_srcdir)/common.sh"

# Does the broker of the project answer on its port with its banner?
banner_ok()
{
	python3 -c "
import socket, sys
s = socket.create_connection(('127.0.0.1', $port), timeout=10)
sys.exit(not s.makefile().readline().startswith('castra-broker 0.1 ready'))
" 2>/dev/null
}

check_banner()
{
	wait_for 10 banner_ok ||
	    atf_fail "the broker does not answer on 127.0.0.1:$port"
}

atf_test_case imgd_during_import cleanup
imgd_during_import_head()
{
	atf_set "descr" "castra-imgd killed while it copies a local image" \
	    "into the cache: the next one reads the same file from its start"
	atf_set "timeout" "300"
}
imgd_during_import_body()
{
	solo_project
	# Large enough to take a few seconds to hash and copy; the zeros
	# make no disk anyone boots, only an image to pull.
	dd if=/dev/zero of=project/big.img bs=1M count=768 status=none
	sum=$(sha256sum project/big.img | cut -d' ' -f1)
	cat >>project/castra.conf <<EOF
image "big" {
	url "file://$PWD/project/big.img"
	sha256 "$sum"
}
EOF
	castrad_start -v
	$CASTRA image pull big >pull.out 2>&1 &
	echo $! >pull.pid
	wait_for 60 '[ -n "$(find home/images/partial -name "import-*" \
	    -size +16M 2>/dev/null)" ]' ||
	    atf_fail "the import did not begin: $(tail -1 pull.out)"
	kill_child castra-imgd
	wait "$(cat pull.pid)" || atf_fail "the pull failed: $(tail -1 pull.out)"
	$CASTRA image list >list.out
	grep -q "$(echo "$sum" | cut -c1-12)" list.out ||
	    atf_fail "big is not in the cache"
	check_cache
}
imgd_during_import_cleanup()
{
	stop_all
}

atf_test_case children_at_rest cleanup
children_at_rest_head()
{
	atf_set "descr" "each child of castrad killed while a project is" \
	    "up is restarted, gets its state again, and loses no VM"
	atf_set "timeout" "300"
}
children_at_rest_body()
{
	solo_project
	castrad_start -v
	atf_check -o match:"solo: reachable" $CASTRA up --wait
	root=$(state_root)
	qemu=$(json_get "$root/vms/solo.json" pid)
	check_qemus solo "$root" 1

	# A new broker gets the listener back and the VM's token: the
	# guest's next hello is granted again.
	kill_child castra-broker
	check_banner
	check_status "s['broker']['state']" "listening"
	[ "$(json_get "$root/broker.json" pid)" = \
	    "$(child_pid castra-broker)" ] ||
	    atf_fail "broker.json does not name the new broker"

	kill_child castra-imgd
	check_cache
	check_qemus solo "$root" 1

	# A new vmm adopts the running VM: it still watches it.
	kill_child castra-vmm
	check_qemus solo "$root" 1
	check_status "s['vms'][0]['state']" "running"
	check_status "s['vms'][0]['pid']" "$qemu"
	kill -0 "$qemu" || atf_fail "QEMU died with castra-vmm"
	kill -9 "$qemu"
	wait_status "s['vms'][0]['state']" 15 stopped
	check_no_overlay solo "$root"
	check_qemus solo "$root" 0

	# The project comes up again in the same castrad.
	atf_check -o ignore -e ignore $CASTRA down
	atf_check -o match:"solo: reachable" $CASTRA up --wait
	check_qemus solo "$root" 1
	check_banner
	atf_check -o match:"solo: powered off" $CASTRA down
	check_qemus solo "$root" 0
	check_no_overlay solo "$root"
	check_status "s['vms'][0]['state']" "stopped"
	check_status "s['broker']['state']" "stopped"
	check_cache
}
children_at_rest_cleanup()
{
	stop_all
}

atf_test_case castrad_at_rest cleanup
castrad_at_rest_head()
{
	atf_set "descr" "castrad killed while a project is up: a new one" \
	    "adopts the VM and the broker, up does not start a second QEMU"
	atf_set "timeout" "300"
}
castrad_at_rest_body()
{
	solo_project
	castrad_start -v
	atf_check -o match:"solo: reachable" $CASTRA up --wait
	root=$(state_root)
	qemu=$(json_get "$root/vms/solo.json" pid)
	kill_castrad
	kill -0 "$qemu" || atf_fail "QEMU died with castrad"
	check_status "s['vms'][0]['state']" "running"

	castrad_start -v
	grep -q "adopted running VMs" castrad.log ||
	    atf_fail "the new castrad did not adopt the project"
	check_banner
	atf_check -o match:"already up" $CASTRA up --wait
	check_qemus solo "$root" 1
	[ "$(json_get "$root/vms/solo.json" pid)" = "$qemu" ] ||
	    atf_fail "the VM was replaced"
	# Its vmm watches the adopted QEMU.
	kill -9 "$qemu"
	wait_status "s['vms'][0]['state']" 15 stopped
	check_no_overlay solo "$root"
	atf_check -o ignore -e ignore $CASTRA down
	atf_check -o match:"solo: reachable" $CASTRA up --wait
	atf_check -o match:"solo: powered off" $CASTRA down
	check_qemus solo "$root" 0
	check_cache
}
castrad_at_rest_cleanup()
{
	stop_all
}

# Run `castra up --wait` in the background, output in up.out.
up_background()
{
	$CASTRA up --wait >up.out 2>&1 &
	echo $! >up.pid
}

up_status()
{
	wait "$(cat up.pid)"
}

# After a disturbed up: the project can be brought down and up again,
# with one QEMU and a reachable guest, and down leaves nothing.
check_recovers()
{
	timeout 120 $CASTRA down >down.out 2>&1 ||
	    atf_fail "down after the fault failed: $(cat down.out)"
	check_qemus solo "$root" 0
	check_no_overlay solo "$root"
	check_status "s['vms'][0]['state']" "stopped"
	check_cache
	check_up_down
}

atf_test_case during_up cleanup
during_up_head()
{
	atf_set "descr" "castra-vmm, the QEMU, castra-broker and castrad" \
	    "killed while the VM boots"
	atf_set "timeout" "600"
}
during_up_body()
{
	solo_project
	castrad_start -v
	root="$PWD/home/projects/$(ls home/projects 2>/dev/null)"

	for victim in castra-vmm qemu castra-broker castrad; do
		echo "== $victim" >>castrad.log
		up_background
		wait_for 60 'root=$(state_root 2>/dev/null) &&
		    [ -n "$(qemu_pids solo "$root")" ]' ||
		    atf_fail "$victim: no QEMU started; $(cat up.out)"
		case $victim in
		qemu)
			kill -9 "$(qemu_pids solo "$root")"
			up_status && atf_fail "up succeeded without its VM"
			grep -q "solo exited while starting" up.out ||
			    atf_fail "up does not say why: $(cat up.out)"
			;;
		castrad)
			kill -9 "$(castrad_pid)"
			up_status && atf_fail "up succeeded without castrad"
			grep -q "castrad" up.out ||
			    atf_fail "up does not say why: $(cat up.out)"
			wait_for 10 '[ -z "$(child_pid castra-vmm)" ]'
			castrad_start -v
			;;
		*)
			kill_child $victim
			up_status ||
			    atf_fail "$victim: up failed: $(cat up.out)"
			grep -q "solo: reachable" up.out ||
			    atf_fail "$victim: up did not wait: $(cat up.out)"
			check_qemus solo "$root" 1
			;;
		esac
		check_recovers
	done
}
during_up_cleanup()
{
	stop_all
}

atf_test_case during_down cleanup
during_down_head()
{
	atf_set "descr" "castra-vmm and castrad killed while a VM that" \
	    "ignores the power button is being stopped"
	atf_set "timeout" "600"
}
during_down_body()
{
	solo_project deaf
	deaf_image
	castrad_start -v
	for victim in castra-vmm castra-broker castrad; do
		atf_check -o match:"solo: reachable" $CASTRA up --wait
		root=$(state_root)
		qemu=$(json_get "$root/vms/solo.json" pid)
		$CASTRA down --graceful-wait 5 >down.out 2>&1 &
		echo $! >down.pid
		wait_for 10 'grep -q "stopping" down.out' ||
		    atf_fail "down did not start: $(cat down.out)"
		case $victim in
		castrad)
			kill -9 "$(castrad_pid)"
			wait "$(cat down.pid)" &&
			    atf_fail "down succeeded without castrad"
			wait_for 10 '[ -z "$(child_pid castra-vmm)" ]'
			castrad_start -v
			;;
		*)
			kill_child $victim
			wait "$(cat down.pid)"
			;;
		esac
		# Whatever the first down said, a second one finishes.
		timeout 120 $CASTRA down --graceful-wait 2 >down2.out 2>&1 ||
		    atf_fail "$victim: down after the fault failed: \
$(cat down.out down2.out)"
		wait_no_qemu solo "$root" 20
		check_no_overlay solo "$root"
		check_status "s['vms'][0]['state']" "stopped"
		check_cache
	done
}
during_down_cleanup()
{
	stop_all
}

atf_test_case imgd_during_download cleanup
imgd_during_download_head()
{
	atf_set "descr" "castra-imgd killed in the middle of an http" \
	    "download: the restarted one fetches the image and up succeeds"
	atf_set "timeout" "300"
}
imgd_during_download_body()
{
	solo_project over-http
	python3 "$(atf_get_srcdir)/slowhttpd.py" \
	    "$builddir/image/rootfs.qcow2" httpd.log httpd.port &
	echo $! >httpd.pid
	wait_for 10 '[ -s httpd.port ]' || atf_fail "httpd did not start"
	http_image "http://127.0.0.1:$(cat httpd.port)/rootfs.qcow2"
	castrad_start -v
	up_background
	wait_for 30 'grep -q "^GET" httpd.log' ||
	    atf_fail "the image was not requested: $(cat up.out)"
	kill_child castra-imgd
	up_status || atf_fail "up failed: $(cat up.out)"
	grep -q "solo: reachable" up.out || atf_fail "$(cat up.out)"
	[ "$(grep -c "^GET" httpd.log)" -ge 2 ] ||
	    atf_fail "the download was not taken up again: $(cat httpd.log)"
	root=$(state_root)
	check_qemus solo "$root" 1
	check_cache
	[ -z "$(find home/images -type f ! -path '*/sha256/*' \
	    ! -path '*/etc/*')" ] || atf_fail "partial files are left"
	atf_check -o match:"is down" $CASTRA down
	check_qemus solo "$root" 0
	check_no_overlay solo "$root"
}
imgd_during_download_cleanup()
{
	stop_httpd
	stop_all
}

atf_init_test_cases()
{
	atf_add_test_case imgd_during_download
	atf_add_test_case imgd_during_import
	atf_add_test_case children_at_rest
	atf_add_test_case castrad_at_rest
	atf_add_test_case during_up
	atf_add_test_case during_down
}
