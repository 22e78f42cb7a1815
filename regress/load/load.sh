#! /usr/bin/env atf-sh
#
# castrad and the broker under load: eight guests booting at once while
# another project is served, and a real guest's hello among thousands
# of idle, hostile connections.  Behaviour is checked, not timings:
# "promptly" is a generous bound.

. "$(atf_get_srcdir)/../faults/common.sh"

PROMPT=10	# seconds a command may take while castrad is loaded

atf_test_case eight_vms cleanup
eight_vms_head()
{
	atf_set "descr" "castrad answers another project promptly while" \
	    "eight VMs boot at once"
	atf_set "timeout" "600"
}
eight_vms_body()
{
	{
		for i in 1 2 3 4 5 6 7 8; do
			printf 'vm "v%d" {\n\timage "castra-default"\n' $i
			printf '\tmemory 256M\n}\n'
		done
	} >vms.conf
	setup_project big <vms.conf
	castrad_start -v
	# The other project: its own file, port and state root.
	mkdir -p project-b
	{
		echo 'project "other"'
		echo "broker port $(free_port)"
		echo "include \"$builddir/image/default-image.conf\""
		printf 'vm "o" {\n\timage "castra-default"\n}\n'
	} >project-b/castra.conf
	OTHER="castra -c $PWD/project-b/castra.conf"

	$CASTRA up --wait >up.out 2>&1 &
	echo $! >up.pid
	wait_for 60 'grep -q "launched" up.out' ||
	    atf_fail "no VM launched: $(cat up.out)"
	rounds=0
	while kill -0 "$(cat up.pid)" 2>/dev/null && [ $rounds -lt 10 ]; do
		rounds=$((rounds + 1))
		timeout $PROMPT $OTHER up --broker-only >other.out 2>&1 ||
		    atf_fail "round $rounds: up --broker-only of another" \
		    "project: $(cat other.out)"
		timeout $PROMPT $OTHER status --json >other.json 2>&1 ||
		    atf_fail "round $rounds: status: $(cat other.json)"
		grep -q '"listening"' other.json ||
		    atf_fail "the other broker is not listening: \
$(cat other.json)"
		timeout $PROMPT $CASTRA status --json >big.json 2>big.err ||
		    atf_fail "status of the booting project: $(cat big.err)"
		timeout $PROMPT $OTHER down >other.out 2>&1 ||
		    atf_fail "round $rounds: down of another project: \
$(cat other.out)"
	done
	[ $rounds -gt 0 ] || atf_fail "the eight VMs were up before any check"
	wait "$(cat up.pid)" || atf_fail "up of eight VMs failed: $(cat up.out)"
	root=$(state_root)
	for i in 1 2 3 4 5 6 7 8; do
		grep -q "v$i: reachable" up.out || atf_fail "v$i: $(cat up.out)"
		check_qemus v$i "$root" 1
	done
	check_status "s['reachable']" "True"
	check_status "len([v for v in s['vms'] if v['state'] == 'running'])" 8
	atf_check -o match:"is down" $CASTRA down
	for i in 1 2 3 4 5 6 7 8; do
		check_qemus v$i "$root" 0
		check_no_overlay v$i "$root"
	done
	check_cache
}
eight_vms_cleanup()
{
	stop_all
}

atf_test_case idle_flood cleanup
idle_flood_head()
{
	atf_set "descr" "a guest says hello and up --wait succeeds while" \
	    "2,000 hostile idle connections are open to the broker"
	atf_set "timeout" "300"
}
idle_flood_body()
{
	solo_project
	castrad_start -v
	atf_check -o ignore $CASTRA up --broker-only
	broker=$(child_pid castra-broker)
	# Connections that say nothing, half a line, or a line of junk,
	# and then hold still.
	python3 - "$port" 2200 >flood.out 2>&1 <<'EOP' &
import os, resource, socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = max(soft, min(hard, n + 100))
resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
held = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    if i % 3 == 1:
        s.send(b"HELLO castra-agent")
    elif i % 3 == 2:
        s.send(b"\xff\x00" * 64 + b"\n")
    held.append(s)
open("flood.ready", "w").write("%d\n" % len(held))
time.sleep(3600)
EOP
	echo $! >flood.pid
	wait_for 60 '[ -s flood.ready ]' ||
	    atf_fail "the connections were not opened: $(cat flood.out)"
	[ "$(cat flood.ready)" -ge 2000 ] || atf_fail "$(cat flood.ready) only"
	atf_check -o match:"solo: reachable" $CASTRA up --wait
	check_status "s['vms'][0]['broker']" "reachable"
	check_qemus solo "$(state_root)" 1
	kill -0 "$(cat flood.pid)" || atf_fail "the flood ended early"
	[ "$(child_pid castra-broker)" = "$broker" ] ||
	    atf_fail "the broker was restarted under the flood"
	# A host session still reaches the bus.
	atf_check -o match:"published" \
	    $CASTRA bus publish --topic broadcast --payload '{"load":1}'
	kill "$(cat flood.pid)"
	atf_check -o match:"is down" $CASTRA down
	check_qemus solo "$(state_root)" 0
}
idle_flood_cleanup()
{
	[ -f flood.pid ] && kill "$(cat flood.pid)" 2>/dev/null
	stop_all
}

atf_init_test_cases()
{
	atf_add_test_case eight_vms
	atf_add_test_case idle_flood
}
