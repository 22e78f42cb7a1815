#! /usr/bin/env atf-sh
#
# castra up --broker-only through castra and a private castrad: the
# listener starts, guests that already run are left alone with a
# warning, a second up reuses the listener, and a castrad killed and
# started again brings the broker back, or leaves the project down if
# its port was taken meanwhile.  Every path is under the case's own
# directory.

. "$(atf_get_srcdir)/../common.subr"

atf_test_case running_guests cleanup
running_guests_head()
{
	atf_set descr "up --broker-only leaves a running guest alone, warns," \
	    "and a second one reuses the listener"
	atf_set timeout 60
}
running_guests_body()
{
	castra="$(atf_config_get bindir)/castra -c proj/castra.conf"
	mkdir -p home proj
	port=$(free_port)
	printf 'project "bo%s"\nbroker port %s\nvm "v" { disk "../none" }\n' \
	    $$ $port >proj/castra.conf
	root=$($castra status --json | python3 -c \
	    'import json, sys; print(json.load(sys.stdin)["state_root"])')
	# A guest that a castrad before this one started: its record names
	# a live process with its start time.
	sleep 300 </dev/null >/dev/null 2>&1 &
	guest=$!
	echo $guest >guest.pid
	st=$(cut -d ' ' -f 22 /proc/$guest/stat)
	mkdir -p "$root/vms"
	printf '{"name":"v","pid":%s,"start_time":%s,"state":"running",' \
	    $guest $st >"$root/vms/v.json"
	printf '"cpus":1,"memory_mib":256}\n' >>"$root/vms/v.json"
	cp "$root/vms/v.json" record

	warning="castra: warning: VMs of bo$$ are already running;"
	warning="$warning they were left as they are"
	atf_check -o match:"listening" -e inline:"$warning\n" \
	    $castra up --broker-only
	atf_check -o match:"^castra-broker 0.1 ready" python3 -c "
import socket
s = socket.create_connection(('127.0.0.1', $port))
print(s.makefile().readline(), end='')"
	# The host sessions' secret: only the project's owner reads it.
	atf_check -o inline:"600 $(id -u)\n" stat -c "%a %u" "$root/token"
	kill -0 $guest || atf_fail "the guest was stopped"
	atf_check cmp record "$root/vms/v.json"
	[ ! -e "$root/overlays/v.qcow2" ] || atf_fail "an overlay was made"
	# Again: the same listener, no failure on its port.
	pid=$(python3 -c "import json; \
print(json.load(open('$root/broker.json'))['pid'])")
	atf_check -o match:"listening" -e ignore $castra up --broker-only
	atf_check -o inline:"$pid\n" python3 -c "import json; \
print(json.load(open('$root/broker.json'))['pid'])"
	broker="\"state\":\"listening\",\"pid\":$pid,\"port\":$port"
	atf_check -o match:"\"broker\":\\{$broker\\}" $castra status --json
}
running_guests_cleanup()
{
	[ -f guest.pid ] && kill "$(cat guest.pid)" 2>/dev/null
	castrad_stop
}

# broker_only_project [state]: a project of one VM that is never
# booted, on a free port, its state root in proj/state if given;
# castra, port and root (its state root) are set.
broker_only_project()
{
	castra="$(atf_config_get bindir)/castra -c proj/castra.conf"
	mkdir -p home proj
	port=$(free_port)
	printf 'project "bo%s"\nbroker port %s\nvm "v" { disk "../none" }\n' \
	    $$ $port >proj/castra.conf
	[ -z "$1" ] || printf 'state "%s"\n' "$1" >>proj/castra.conf
	root=$($castra status --json | python3 -c \
	    'import json, sys; print(json.load(sys.stdin)["state_root"])')
}

# The broker's state and pid as castra status --json says them.
broker_status()
{
	$castra status --json | python3 -c 'import json, sys
b = json.load(sys.stdin)["broker"]
print(b["state"], b.get("pid"))'
}

# The end of castrad's log on one line, for a failure's reason.
log_tail()
{
	tail -5 castrad.log | tr '\n' ' '
}

# The broker stopped, as status and project.json say.
check_down()
{
	[ "$(broker_status)" = "stopped None" ] ||
	    atf_fail "the broker is $(broker_status)"
	[ "$(json_get "$root/project.json" broker_only)" = False ] ||
	    atf_fail "project.json still says broker-only"
}

# Start castrad again and wait until it has adopted what it adopts,
# which it does before it logs its startup.
castrad_restart()
{
	castrad_start -v
	wait_for 10 '[ "$(grep -c "startup, home" castrad.log)" -ge 2 ]' ||
	    atf_fail "castrad did not finish starting: $(log_tail)"
}

# Up broker-only, then kill castrad and its broker with it; the dead
# broker's pid in old.
up_then_kill()
{
	castrad_start -v
	atf_check -o match:"listening" $castra up --broker-only
	[ "$(json_get "$root/project.json" broker_only)" = True ] ||
	    atf_fail "project.json does not say broker-only"
	old=$(json_get "$root/broker.json" pid)
	dead=$(castrad_pid)
	kill -9 "$dead"
	wait_for 10 "gone $dead && gone $old" ||
	    atf_fail "castrad or its broker outlived a SIGKILL"
}

atf_test_case castrad_restart cleanup
castrad_restart_head()
{
	atf_set descr "a castrad killed and started again brings back the" \
	    "broker of a project up broker-only, and down ends it"
	atf_set timeout 120
}
castrad_restart_body()
{
	# Outside home/projects/, so that castrad finds it by its record.
	broker_only_project state
	up_then_kill
	record=$(ls home/adopt)
	[ -n "$record" ] || atf_fail "castrad kept no record in home/adopt"
	castrad_restart
	[ -f "home/adopt/$record" ] || atf_fail "the record went on restart"
	wait_for 10 '[ "$(broker_status)" = \
	    "listening $(child_pid castra-broker)" ]' ||
	    atf_fail "the broker is not back: $(broker_status); $(log_tail)"
	[ "$(child_pid castra-broker)" != "$old" ] ||
	    atf_fail "the broker pid did not change"
	grep -q "adopted, broker only" castrad.log ||
	    atf_fail "castrad did not log the adoption"

	# A host session on the new broker: what one publishes, a
	# subscriber receives.
	$castra bus subscribe --topic back >sub.out 2>sub.err &
	echo $! >sub.pid
	wait_for 20 '$castra bus publish --topic back --payload "{\"n\":1}" |
	    grep -q "delivered to 1 session$"' ||
	    atf_fail "no subscriber got the publish: $(cat sub.err)"
	wait_for 10 'grep -q "\"payload\": *{\"n\": *1}" sub.out' ||
	    atf_fail "the subscriber did not print it: $(cat sub.out)"
	kill "$(cat sub.pid)"

	atf_check -o match:"is down" $castra down
	check_down
	[ ! -e "home/adopt/$record" ] || atf_fail "down left the record"
	atf_check python3 -c "import socket
socket.socket().bind(('127.0.0.1', $port))"
}
castrad_restart_cleanup()
{
	[ -f sub.pid ] && kill "$(cat sub.pid)" 2>/dev/null
	castrad_stop
}

atf_test_case castrad_restart_port_taken cleanup
castrad_restart_port_taken_head()
{
	atf_set descr "a castrad started again leaves a project that was up" \
	    "broker-only down, and says so, when its port is taken"
	atf_set timeout 120
}
castrad_restart_port_taken_body()
{
	broker_only_project
	up_then_kill
	python3 -c "import socket, time
s = socket.socket()
s.bind(('127.0.0.1', $port))
s.listen()
open('taker.ready', 'w').close()
time.sleep(300)" </dev/null >/dev/null 2>&1 &
	echo $! >taker.pid
	wait_for 10 '[ -f taker.ready ]' || atf_fail "the port was not taken"
	castrad_restart
	grep -q "cannot listen on 127.0.0.1:$port.*left down" castrad.log ||
	    atf_fail "castrad did not say why: $(log_tail)"
	check_down
}
castrad_restart_port_taken_cleanup()
{
	[ -f taker.pid ] && kill "$(cat taker.pid)" 2>/dev/null
	castrad_stop
}

atf_init_test_cases()
{
	atf_add_test_case running_guests
	atf_add_test_case castrad_restart
	atf_add_test_case castrad_restart_port_taken
}
