#! /usr/bin/env atf-sh
#
# castra up --broker-only through castra and a private castrad: the
# listener starts, guests that already run are left alone with a
# warning, and a second up reuses the listener.  Every path is under the
# case's own directory.

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

atf_init_test_cases()
{
	atf_add_test_case running_guests
}
