#! /usr/bin/env atf-sh
# castra clean: what it removes, what it keeps, the bytes it reports,
# and that it leaves a running project alone unless forced.

. "$(atf_get_srcdir)/common.sh"

# What a stopped project leaves behind.
leftovers()
{
	state_dirs
	head -c 300000 /dev/urandom >"$SR/overlays/web-0.qcow2"
	truncate -s 1G "$SR/overlays/web-1.qcow2"	# sparse: no blocks
	echo x >"$SR/run/web-0.pid"
	vm_record web-0 stopped 0 1
	handshake web-0 1700000000000
	seq 1 5000 >"$SR/handshakes/handshake-events.jsonl"
	seq 1 7000 >"$SR/logs/broker.log"
	seq 1 100 >"$SR/logs/bus/bus.log"
	echo '{"pid":1,"start_time":1,"port":7170,"state":"listening"}' \
	    >"$SR/broker.json"
	echo '{"name":"demo"}' >"$SR/project.json"
	echo secret >"$SR/token"
}

# The bytes the files under the named parts of the state root occupy.
blocks()
{
	python3 - "$SR" "$@" <<'EOF'
import os, sys
root, total = sys.argv[1], 0
for part in sys.argv[2:]:
    p = os.path.join(root, part)
    if os.path.isfile(p):
        total += os.lstat(p).st_blocks * 512
        continue
    for d, _, files in os.walk(p):
        for f in files:
            total += os.lstat(os.path.join(d, f)).st_blocks * 512
print(total)
EOF
}

atf_test_case dry_run cleanup
dry_run_head()
{
	atf_set descr "--dry-run reports the bytes and removes nothing"
}
dry_run_body()
{
	setup_env
	write_conf
	leftovers
	bytes=$(blocks overlays run vms handshakes logs broker.json)
	find "$SR" | sort >before
	atf_check -s exit:0 -e empty -o save:out \
	    sh -c "cd proj && '$castra' clean --dry-run"
	atf_check -o match:"^Would reclaim .* \($bytes bytes\); nothing was removed.\$" \
	    -o match:"^would remove $SR/overlays \(" \
	    -o match:"^would remove $SR/broker.json \(4.0 KiB\)\$" cat out
	find "$SR" | sort >after
	atf_check cmp before after
}
dry_run_cleanup()
{
	:
}

atf_test_case removes cleanup
removes_head()
{
	atf_set descr "clean removes the leftovers, keeps the directories and the project's own files"
}
removes_body()
{
	setup_env
	write_conf
	leftovers
	bytes=$(blocks overlays run vms handshakes logs broker.json)
	atf_check -s exit:0 -e empty -o save:out \
	    sh -c "cd proj && '$castra' clean"
	atf_check -o match:"^Reclaimed .* \($bytes bytes\)\.\$" \
	    -o match:"^State root: $SR\$" cat out
	atf_check -o inline:"$SR/project.json\n$SR/token\n" \
	    sh -c "find '$SR' -type f | sort"
	for d in vms overlays run handshakes logs logs/bus; do
		atf_check test -d "$SR/$d"
	done
	# Again: nothing left to reclaim.
	atf_check -s exit:0 -o match:"^Reclaimed 0 B \(0 bytes\)\.\$" \
	    sh -c "cd proj && '$castra' clean"
	# A project never brought up: nothing to do, nothing created.
	rm -rf "$SR"
	atf_check -s exit:0 -o match:"Reclaimed 0 B" \
	    sh -c "cd proj && '$castra' clean"
	atf_check -s exit:1 test -e "$SR"
}
removes_cleanup()
{
	:
}

atf_test_case keeps cleanup
keeps_head()
{
	atf_set descr "--keep-logs and --keep-handshakes keep them"
}
keeps_body()
{
	setup_env
	write_conf
	leftovers
	bytes=$(blocks overlays run vms broker.json)
	atf_check -s exit:0 -o match:"\($bytes bytes\)" \
	    sh -c "cd proj && '$castra' clean --keep-logs --keep-handshakes"
	atf_check test -s "$SR/logs/broker.log"
	atf_check test -s "$SR/logs/bus/bus.log"
	atf_check test -s "$SR/handshakes/web-0.json"
	atf_check test -s "$SR/handshakes/handshake-events.jsonl"
	atf_check -s exit:1 test -e "$SR/overlays/web-0.qcow2"
	atf_check -s exit:1 test -e "$SR/vms/web-0.json"
}
keeps_cleanup()
{
	:
}

atf_test_case running cleanup
running_head()
{
	atf_set descr "clean refuses while a VM runs, unless --force"
}
running_body()
{
	setup_env
	write_conf
	leftovers
	start_sleeper
	vm_record web-1 running "$bgpid" "$(starttime "$bgpid")"
	find "$SR" | sort >before
	atf_check -s exit:70 -o ignore \
	    -e match:"web-1 still running; stop it with .castra down." \
	    sh -c "cd proj && '$castra' clean"
	atf_check -s exit:70 -o ignore -e match:"web-1 still running" \
	    sh -c "cd proj && '$castra' clean --dry-run"
	find "$SR" | sort >after
	atf_check cmp before after
	atf_check -s exit:0 -o match:"^Reclaimed" \
	    sh -c "cd proj && '$castra' clean --force"
	atf_check -s exit:1 test -e "$SR/overlays/web-0.qcow2"
	atf_check -s exit:64 -e match:"usage: castra clean" \
	    sh -c "cd proj && '$castra' clean --bogus"
}
running_cleanup()
{
	stop_sleepers
}

atf_init_test_cases()
{
	atf_add_test_case dry_run
	atf_add_test_case removes
	atf_add_test_case keeps
	atf_add_test_case running
}
