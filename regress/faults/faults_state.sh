#! /usr/bin/env atf-sh
#
# State files that lie: corrupt or truncated records, a pid that now
# belongs to another process, two ups racing, and a host clock that
# steps.  castra status tells the truth and does not crash; up and
# down still work or say what to do.

. "$(atf_get_srcdir)/common.sh"

# Keep the first half of file $1.
truncate_half()
{
	truncate -s $(($(stat -c %s "$1") / 2)) "$1"
}

atf_test_case corrupt_records cleanup
corrupt_records_head()
{
	atf_set "descr" "truncated and garbled state files: status warns" \
	    "and goes on, down and up still work"
	atf_set "timeout" "400"
}
corrupt_records_body()
{
	solo_project
	castrad_start -v
	atf_check -o match:"solo: reachable" $CASTRA up --wait
	root=$(state_root)
	qemu=$(json_get "$root/vms/solo.json" pid)

	# A handshake record cut short: no reachability from it.
	cp "$root/handshakes/solo.json" hs.json
	truncate_half "$root/handshakes/solo.json"
	atf_check -o match:'"reachable": *false' \
	    -e match:"handshakes/solo.json" $CASTRA status --json
	check_status "s['vms'][0]['state']" "running"
	check_status "s['vms'][0]['broker']" "waiting"
	cp hs.json "$root/handshakes/solo.json"

	# broker.json full of garbage.
	cp "$root/broker.json" broker.json
	printf '\377\000{"state": [' >"$root/broker.json"
	atf_check -o ignore -e match:"broker.json" $CASTRA status
	atf_check -o ignore -e match:"broker.json" $CASTRA status --json
	cp broker.json "$root/broker.json"

	# The VM's record cut short: the VM is "error", and down still
	# stops the QEMU, which castrad and castra-vmm know.
	truncate_half "$root/vms/solo.json"
	atf_check -o match:"error" -e match:"vms/solo.json" $CASTRA status
	check_status "s['vms'][0]['state']" "error"
	atf_check -o match:"is down" $CASTRA down
	wait_no_qemu solo "$root" 10
	check_no_overlay solo "$root"
	check_status "s['vms'][0]['state']" "stopped"

	# project.json garbled while castrad is away: a new castrad starts
	# anyway, and down finds the VM through its own record.
	atf_check -o match:"solo: reachable" $CASTRA up --wait
	qemu=$(json_get "$root/vms/solo.json" pid)
	kill_castrad
	echo '{"name": "x", "config": 7' >"$root/project.json"
	castrad_start -v
	check_status "s['vms'][0]['state']" "running"
	atf_check -o match:"is down" $CASTRA down
	wait_no_qemu solo "$root" 20
	check_no_overlay solo "$root"

	# A zero-length VM record while castrad is away: castra up must
	# not start a second QEMU beside the one still running.
	atf_check -o match:"solo: reachable" $CASTRA up --wait
	qemu=$(json_get "$root/vms/solo.json" pid)
	kill_castrad
	: >"$root/vms/solo.json"
	castrad_start -v
	check_status "s['vms'][0]['state']" "error"
	$CASTRA up --wait >up.out 2>&1 && atf_fail "up started over a QEMU"
	check_qemus solo "$root" 1
	kill -0 "$qemu" || atf_fail "the running QEMU was lost"
	grep -q "solo: its QEMU (pid $qemu) still runs.*castra down" up.out ||
	    atf_fail "up does not say what to do: $(cat up.out)"
	# As it says: down finds and stops that QEMU, up works again.
	atf_check -o match:"is down" $CASTRA down
	wait_no_qemu solo "$root" 20
	check_no_overlay solo "$root"
	check_status "s['vms'][0]['state']" "stopped"
	atf_check -o match:"solo: reachable" $CASTRA up --wait
	check_qemus solo "$root" 1
	atf_check -o match:"is down" $CASTRA down
	check_qemus solo "$root" 0
	check_cache
}
corrupt_records_cleanup()
{
	stop_all
}

atf_test_case stale_pid cleanup
stale_pid_head()
{
	atf_set "descr" "a record whose pid now belongs to another process:" \
	    "status says stopped, down never signals it"
	atf_set "timeout" "120"
}
stale_pid_body()
{
	solo_project
	castrad_start -v
	root=$(state_root)
	mkdir -p "$root/vms" "$root/overlays"
	sleep 300 &
	victim=$!
	echo $victim >victim.pid
	start=$(cut -d' ' -f22 "/proc/$victim/stat")

	# The pid is reused: its start time is not the record's.
	cat >"$root/vms/solo.json" <<EOF2
{"name": "solo", "state": "running", "pid": $victim,
 "start_time": $((start - 100)), "accel": "tcg",
 "argv": ["/usr/bin/qemu-system-x86_64", "-name", "solo"]}
EOF2
	: >"$root/overlays/solo.qcow2"
	check_status "s['vms'][0]['state']" "stopped"
	atf_check -o ignore -e ignore $CASTRA down
	kill -0 "$victim" || atf_fail "down signalled pid $victim"
	check_status "s['vms'][0]['state']" "stopped"

	# Even with the right start time, a process that is not the
	# recorded QEMU is not signalled.
	cat >"$root/vms/solo.json" <<EOF2
{"name": "solo", "state": "running", "pid": $victim,
 "start_time": $start, "accel": "tcg",
 "argv": ["/usr/bin/qemu-system-x86_64", "-name", "solo"]}
EOF2
	atf_check -o ignore -e ignore $CASTRA down
	kill -0 "$victim" || atf_fail "down signalled pid $victim"
	[ "$(cut -d' ' -f3 "/proc/$victim/stat")" != "T" ] ||
	    atf_fail "down stopped pid $victim"

	# And up starts the VM for real beside the stranger.
	atf_check -o match:"solo: reachable" $CASTRA up --wait
	check_qemus solo "$root" 1
	kill -0 "$victim" || atf_fail "up signalled pid $victim"
	atf_check -o match:"is down" $CASTRA down
	check_qemus solo "$root" 0
	kill -0 "$victim" || atf_fail "down signalled pid $victim"
}
stale_pid_cleanup()
{
	[ -f victim.pid ] && kill "$(cat victim.pid)" 2>/dev/null
	stop_all
}

# castra status under libfaketime, the clock frozen at epoch second $1.
# In a sanitizer build ASan must let the preloaded library go first.
status_at()
{
	_when=$(date -u -d "@$1" '+%Y-%m-%d %H:%M:%S')
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	    TZ=UTC FAKETIME="$_when" LD_PRELOAD="$libfaketime" \
	    $CASTRA status --json >status.json 2>status.err ||
	    atf_fail "castra status at $_when failed: $(cat status.err)"
}

field()
{
	python3 -c "import json; s = json.load(open('status.json')); print($1)"
}

atf_test_case races_and_clock cleanup
races_and_clock_head()
{
	atf_set "descr" "two ups at once start one QEMU; status under a" \
	    "clock stepped back and forward follows the 45 s rule"
	atf_set "timeout" "300"
}
races_and_clock_body()
{
	solo_project
	castrad_start -v
	# Two ups at once: one brings the project up, the other is told
	# the project is busy (or, if it came late, already up).
	$CASTRA up --wait >up1.out 2>&1 &
	p1=$!
	wait_for 30 'grep -q "solo" up1.out' ||
	    atf_fail "the first up says nothing: $(cat up1.out)"
	$CASTRA up --wait >up2.out 2>&1
	s2=$?
	wait $p1 || atf_fail "the first up failed: $(cat up1.out)"
	grep -q "solo: reachable" up1.out || atf_fail "$(cat up1.out)"
	[ $s2 -eq 75 ] || atf_fail "the second up exited $s2: $(cat up2.out)"
	grep -q "busy" up2.out || atf_fail "$(cat up2.out)"
	root=$(state_root)
	check_qemus solo "$root" 1
	# Three at once on an up project: all say so, nothing changes.
	qemu=$(json_get "$root/vms/solo.json" pid)
	for i in 1 2 3; do
		$CASTRA up >race$i.out 2>&1 &
		echo $! >race$i.pid
	done
	for i in 1 2 3; do
		wait "$(cat race$i.pid)"
	done
	for i in 1 2 3; do
		grep -q "already up" race$i.out || atf_fail "$(cat race$i.out)"
	done
	check_qemus solo "$root" 1
	[ "$(json_get "$root/vms/solo.json" pid)" = "$qemu" ] ||
	    atf_fail "the VM was replaced"

	# The clock: frozen at whole seconds around the last handshake.
	libfaketime=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
	[ -f "$libfaketime" ] || atf_skip "libfaketime is not installed"
	# Both checks against one handshake: if the guest says hello again
	# meanwhile (it reconnects every few seconds), take them again.
	for attempt in 1 2 3; do
		cp "$root/handshakes/solo.json" hs.json
		ts=$(json_get hs.json timestamp_ms)
		[ "$ts" != None ] || atf_fail "no timestamp_ms in the handshake"
		reach=$(((ts + 45000) / 1000))
		status_at $reach
		mv status.json fresh.json
		status_at $((reach + 1))
		mv status.json stale.json
		cmp -s hs.json "$root/handshakes/solo.json" && break
	done
	cp fresh.json status.json
	[ "$(field "s['reachable']")" = True ] ||
	    atf_fail "not reachable at age $((reach * 1000 - ts)) ms"
	[ "$(field "s['vms'][0]['broker']")" = reachable ] ||
	    atf_fail "broker is $(field "s['vms'][0]['broker']")"
	[ "$(field "s['vms'][0]['handshake_age_ms']")" = \
	    "$((reach * 1000 - ts))" ] ||
	    atf_fail "wrong age: $(cat status.json)"

	# One second later the handshake is stale.
	cp stale.json status.json
	[ "$(field "s['reachable']")" = False ] ||
	    atf_fail "reachable at age $(((reach + 1) * 1000 - ts)) ms"
	[ "$(field "s['vms'][0]['broker']")" = waiting ] ||
	    atf_fail "broker is $(field "s['vms'][0]['broker']")"
	[ "$(field "s['vms'][0]['state']")" = running ] ||
	    atf_fail "a stale handshake changed the VM's state"

	# The clock stepped back: the handshake lies in the future.
	status_at $((ts / 1000 - 60))
	[ "$(field "s['reachable']")" = False ] ||
	    atf_fail "a future handshake was trusted"
	[ "$(field "'handshake_age_ms' in s['vms'][0]")" = False ] ||
	    atf_fail "a future handshake has an age"
	grep -q "in the future" status.err ||
	    atf_fail "no warning: $(cat status.err)"
	[ "$(field "s['vms'][0]['state']")" = running ] ||
	    atf_fail "a stepped clock changed the VM's state"

	atf_check -o match:"is down" $CASTRA down
	check_qemus solo "$root" 0
}
races_and_clock_cleanup()
{
	stop_all
}

atf_init_test_cases()
{
	atf_add_test_case corrupt_records
	atf_add_test_case stale_pid
	atf_add_test_case races_and_clock
}
