#! /usr/bin/env atf-sh
# castra status over state directories written by the test: what a
# reader of the state files alone can tell, and how it treats records
# it cannot trust.

. "$(atf_get_srcdir)/common.sh"

atf_test_case never_up cleanup
never_up_head()
{
	atf_set descr "a project never brought up: all stopped, schema order"
}
never_up_body()
{
	setup_env
	write_conf
	atf_check -s exit:0 -o save:status.json -e empty \
	    sh -c "cd proj && '$castra' status --json"
	atf_check -o inline:"1\n" sh -c "wc -l <status.json"
	atf_check -o inline:"['project', 'config', 'state_root', 'broker', 'reachable', 'vms']\n" \
	    python3 -c "$jq" 'list(j.keys())' <status.json
	atf_check -o inline:"demo $PWD/proj/castra.conf $SR\n" \
	    python3 -c "$jq" '" ".join([j["project"], j["config"], j["state_root"]])' \
	    <status.json
	atf_check -o inline:"{'state': 'stopped', 'port': 7170}\n" \
	    python3 -c "$jq" 'j["broker"]' <status.json
	atf_check -o inline:"False\n" python3 -c "$jq" 'j["reachable"]' <status.json
	atf_check -o inline:"['web-0', 'web-1', 'db']\n" \
	    python3 -c "$jq" '[v["name"] for v in j["vms"]]' <status.json
	atf_check -o inline:"['name', 'state', 'cpus', 'memory_mib', 'broker', 'forwards']\n" \
	    python3 -c "$jq" 'list(j["vms"][0].keys())' <status.json
	atf_check -o inline:"stopped offline 2 512\n" python3 -c "$jq" \
	    '" ".join(str(j["vms"][1][k]) for k in ("state","broker","cpus","memory_mib"))' \
	    <status.json
	atf_check -o inline:"[{'proto': 'tcp', 'bind': '127.0.0.1', 'host': 18081, 'guest': 80}]\n" \
	    python3 -c "$jq" 'j["vms"][1]["forwards"]' <status.json
	atf_check -o inline:"[]\n" python3 -c "$jq" 'j["vms"][2]["forwards"]' \
	    <status.json
	# The table says the same, with a legend.
	atf_check -s exit:0 -o match:"^web-1 +stopped +2/512M +- +offline" \
	    -o match:"^BROKER: reachable" -e empty \
	    sh -c "cd proj && '$castra' status"
	# Status never writes: no state root appeared.
	atf_check -s exit:1 test -e "$SR"
}
never_up_cleanup()
{
	:
}

atf_test_case fresh_handshake cleanup
fresh_handshake_head()
{
	atf_set descr "a handshake 2 s old: reachable, with its age"
}
fresh_handshake_body()
{
	setup_env
	write_conf
	state_dirs
	start_sleeper
	st=$(starttime "$bgpid")
	now=$(now_ms)
	vm_record web-0 running "$bgpid" "$st" \
	    ",\"up_at_ms\":$((now - 5000)),\"launched_at_ms\":$((now - 4790)),\"first_handshake_at_ms\":$((now - 3360))"
	handshake web-0 $((now - 2000)) \
	    '{"topics":["broadcast","vm:web-0"],"last_heartbeat_ms":'$((now - 800))'}'
	status_json
	atf_check -o inline:"True web-0\n" \
	    python3 -c "$jq" 'j["reachable"], j["last_handshake_vm"]' <status.json
	atf_check -o inline:"True\n" \
	    python3 -c "$jq" '2000 <= j["last_handshake_age_ms"] < 12000' <status.json
	atf_check -o inline:"running $bgpid reachable tcg\n" python3 -c "$jq" \
	    '" ".join(str(j["vms"][0][k]) for k in ("state","pid","broker","accel"))' \
	    <status.json
	atf_check -o inline:"['name', 'state', 'pid', 'cpus', 'memory_mib', 'uptime_ms', 'broker', 'handshake_age_ms', 'accel', 'bus', 'forwards', 'boot']\n" \
	    python3 -c "$jq" 'list(j["vms"][0].keys())' <status.json
	atf_check -o inline:"True\n" \
	    python3 -c "$jq" '4790 <= j["vms"][0]["uptime_ms"] < 15000' <status.json
	atf_check -o inline:"{'launched_ms': 210, 'first_handshake_ms': 1430}\n" \
	    python3 -c "$jq" 'j["vms"][0]["boot"]' <status.json
	atf_check -o inline:"['broadcast', 'vm:web-0'] True\n" python3 -c "$jq" \
	    'j["vms"][0]["bus"]["topics"], 800 <= j["vms"][0]["bus"]["heartbeat_age_ms"] < 10800' \
	    <status.json
	atf_check -o inline:"stopped offline\n" \
	    python3 -c "$jq" 'j["vms"][1]["state"], j["vms"][1]["broker"]' <status.json
	atf_check -o inline:"" cat status.err
	atf_check -s exit:0 -o match:"^web-0 +running +2/512M +00:00:[0-5][0-9] +reachable +broadcast,vm:web-0 hb" \
	    -o match:"Reachable: yes" sh -c "cd proj && '$castra' status"
}
fresh_handshake_cleanup()
{
	stop_sleepers
}

atf_test_case stale_handshake cleanup
stale_handshake_head()
{
	atf_set descr "46 s old: not reachable; a running VM is waiting"
}
stale_handshake_body()
{
	setup_env
	write_conf
	state_dirs
	start_sleeper
	now=$(now_ms)
	vm_record web-0 running "$bgpid" "$(starttime "$bgpid")"
	handshake web-0 $((now - 46000))
	handshake db $((now - 50000))
	status_json
	atf_check -o inline:"False web-0\n" \
	    python3 -c "$jq" 'j["reachable"], j["last_handshake_vm"]' <status.json
	atf_check -o inline:"waiting True\n" python3 -c "$jq" \
	    'j["vms"][0]["broker"], j["vms"][0]["handshake_age_ms"] >= 46000' \
	    <status.json
	atf_check -o inline:"offline True\n" python3 -c "$jq" \
	    'j["vms"][2]["broker"], j["vms"][2]["handshake_age_ms"] >= 50000' \
	    <status.json
	# A fresh one of a VM that castra did not start still counts.
	handshake db $((now - 1000))
	status_json
	atf_check -o inline:"True db reachable stopped\n" python3 -c "$jq" \
	    'j["reachable"], j["last_handshake_vm"], j["vms"][2]["broker"], j["vms"][2]["state"]' \
	    <status.json
}
stale_handshake_cleanup()
{
	stop_sleepers
}

atf_test_case future_handshake cleanup
future_handshake_head()
{
	atf_set descr "a handshake from the future is not trusted"
}
future_handshake_body()
{
	setup_env
	write_conf
	state_dirs
	handshake web-0 $(($(now_ms) + 60000))
	status_json
	atf_check -o inline:"False\n" python3 -c "$jq" 'j["reachable"]' <status.json
	atf_check -o inline:"False False offline\n" python3 -c "$jq" \
	    '"last_handshake_vm" in j, "handshake_age_ms" in j["vms"][0], j["vms"][0]["broker"]' \
	    <status.json
	atf_check -o match:"web-0.json: timestamp is [0-9]+ ms in the future" \
	    cat status.err
}
future_handshake_cleanup()
{
	:
}

atf_test_case identity cleanup
identity_head()
{
	atf_set descr "a live pid with another start time, or a dead pid, is stopped"
}
identity_body()
{
	setup_env
	write_conf
	state_dirs
	start_sleeper
	st=$(starttime "$bgpid")
	vm_record web-0 running "$bgpid" $((st + 1))
	sh -c 'exit 0' &
	dead=$!
	wait "$dead"
	vm_record web-1 running "$dead" 12345
	vm_record db error 0 1
	printf '{"pid":%s,"start_time":%s,"port":7170,"state":"listening"}\n' \
	    "$bgpid" $((st + 7)) >"$SR/broker.json"
	status_json
	atf_check -o inline:"stopped False\n" \
	    python3 -c "$jq" 'j["vms"][0]["state"], "pid" in j["vms"][0]' <status.json
	atf_check -o inline:"stopped error\n" \
	    python3 -c "$jq" 'j["vms"][1]["state"], j["vms"][2]["state"]' <status.json
	atf_check -o inline:"{'state': 'stopped', 'port': 7170}\n" \
	    python3 -c "$jq" 'j["broker"]' <status.json
	# With the right start time both are what their records say.
	vm_record web-0 starting "$bgpid" "$st"
	printf '{"pid":%s,"start_time":%s,"port":7171,"state":"listening"}\n' \
	    "$bgpid" "$st" >"$SR/broker.json"
	status_json
	atf_check -o inline:"starting $bgpid waiting\n" python3 -c "$jq" \
	    '" ".join(str(j["vms"][0][k]) for k in ("state","pid","broker"))' \
	    <status.json
	atf_check -o inline:"{'state': 'listening', 'pid': $bgpid, 'port': 7171}\n" \
	    python3 -c "$jq" 'j["broker"]' <status.json
	# What castrad writes after down, and for a VM that failed before
	# launch (0: no process, no time): no warning about either.
	printf '{"port":7170,"state":"stopped"}\n' >"$SR/broker.json"
	vm_record db error 0 0 ',"up_at_ms":'$(now_ms)',"launched_at_ms":0'
	status_json
	atf_check -o inline:"{'state': 'stopped', 'port': 7170}\n" \
	    python3 -c "$jq" 'j["broker"]' <status.json
	atf_check -o inline:"error False\n" \
	    python3 -c "$jq" 'j["vms"][2]["state"], "boot" in j["vms"][2]' \
	    <status.json
	atf_check -o inline:"" cat status.err
}
identity_cleanup()
{
	stop_sleepers
}

atf_test_case corrupt cleanup
corrupt_head()
{
	atf_set descr "corrupt and hostile records: that VM is error, the rest reported"
}
corrupt_body()
{
	setup_env
	write_conf
	state_dirs
	printf '{"name":"web-0","pid":' >"$SR/vms/web-0.json"
	printf '{"name":"web-1","pid":"12","state":"running"}' \
	    >"$SR/vms/web-1.json"
	mkdir "$SR/vms/db.json"
	printf 'not json at all' >"$SR/handshakes/web-1.json"
	printf '[1,2,3]' >"$SR/broker.json"
	status_json
	atf_check -o inline:"error error error\n" \
	    python3 -c "$jq" '" ".join(v["state"] for v in j["vms"])' <status.json
	atf_check -o match:"vms/web-0.json: line 1" \
	    -o match:"vms/web-1.json: a field is missing" \
	    -o match:"vms/db.json: not a regular file" \
	    -o match:"handshakes/web-1.json: line 1" \
	    -o match:"broker.json: not a JSON object" cat status.err
	# A record too large is refused without being read whole.
	rm -r "$SR/vms/db.json"
	dd if=/dev/zero of="$SR/vms/db.json" bs=1M count=2 2>/dev/null
	status_json
	atf_check -o inline:"error\n" python3 -c "$jq" 'j["vms"][2]["state"]' \
	    <status.json
	atf_check -o match:"vms/db.json: File too large" cat status.err
	# A symbolic link is not followed.
	rm "$SR/vms/db.json"
	ln -s /etc/passwd "$SR/vms/db.json"
	status_json
	atf_check -o inline:"error\n" python3 -c "$jq" 'j["vms"][2]["state"]' \
	    <status.json
}
corrupt_cleanup()
{
	:
}

atf_test_case big_event_log cleanup
big_event_log_head()
{
	atf_set descr "ten million lines of events are never read"
}
big_event_log_body()
{
	setup_env
	write_conf
	state_dirs
	yes '{}' | head -n 10000000 \
	    >"$SR/handshakes/bus-events.jsonl"
	# Opening a FIFO for reading would block: status must never try.
	mkfifo "$SR/handshakes/handshake-events.jsonl"
	handshake web-0 $(($(now_ms) - 1000))
	atf_check -s exit:0 -o save:status.json -e empty \
	    timeout 20 sh -c "cd proj && '$castra' status --json"
	atf_check -o inline:"True\n" python3 -c "$jq" 'j["reachable"]' <status.json
}
big_event_log_cleanup()
{
	rm -f proj/st/handshakes/bus-events.jsonl
}

atf_test_case errors cleanup
errors_head()
{
	atf_set descr "exit 66 without a project file, 74 with an unreadable state root"
}
errors_body()
{
	setup_env
	mkdir empty
	atf_check -s exit:66 -e match:"run .castra init." \
	    sh -c "cd empty && '$castra' status"
	atf_check -s exit:66 -e match:"nothere.conf" \
	    "$castra" -c nothere.conf status --json
	write_conf
	touch "$SR"
	atf_check -s exit:74 -e match:"st: Not a directory" -o empty \
	    sh -c "cd proj && '$castra' status --json"
	atf_check -s exit:64 -e match:"usage: castra status" \
	    "$castra" -c proj/castra.conf status --bogus
}
errors_cleanup()
{
	:
}

atf_test_case canonical cleanup
canonical_head()
{
	atf_set descr "every spelling of the project's path finds one state root"
}
canonical_body()
{
	setup_env
	write_conf
	sed -i '/^state/d' proj/castra.conf
	ln -s proj link
	(cd proj && "$castra" status --json) >a.json
	(cd link && "$castra" status --json) >b.json
	"$castra" -c link/../link/castra.conf status --json >c.json
	root=$(python3 -c "$jq" 'j["state_root"]' <a.json)
	atf_check -o inline:"$root\n" python3 -c "$jq" 'j["state_root"]' <b.json
	atf_check -o inline:"$root\n" python3 -c "$jq" 'j["state_root"]' <c.json
	atf_check -o match:"^$CASTRA_HOME/projects/demo-[0-9a-f]{16}\$" \
	    echo "$root"
}
canonical_cleanup()
{
	:
}

atf_init_test_cases()
{
	atf_add_test_case never_up
	atf_add_test_case fresh_handshake
	atf_add_test_case stale_handshake
	atf_add_test_case future_handshake
	atf_add_test_case identity
	atf_add_test_case corrupt
	atf_add_test_case big_event_log
	atf_add_test_case errors
	atf_add_test_case canonical
}
