#! /usr/bin/env atf-sh
#
# The system castrad keeps each user's projects apart by owner: another
# user who sends the same project id gets a project of their own, not a
# hold on the first user's.  A castrad started again takes over the
# users' running projects in their homes, from records it keeps under
# its own, and trusts nothing on the way there that a user could have
# changed in the meantime.

. "$(atf_get_srcdir)/common.sh"

# The record castrad keeps of user $1's project: adopt/<uid>.<id>.
record_of()
{
	echo "sys/adopt/$(id -u "cs$1$$").$(basename "$(status_as "$1" \
	    "s['state_root']")")"
}

# Does a broker greet on 127.0.0.1:$1?
greets()
{
	python3 -c "import socket, sys
s = socket.create_connection(('127.0.0.1', $1), 2)
s.settimeout(2)
sys.exit(not s.recv(64).startswith(b'castra-broker '))" 2>/dev/null
}

# The owner that project.json in directory $1 names.
owner_in()
{
	python3 -c "import json; \
print(json.load(open('$1/project.json'))['owner_uid'])"
}

# The pid of the QEMU of user $1's project.
qemu_pid()
{
	python3 -c "import json; \
print(json.load(open('$(status_as "$1" "s['state_root']")/vms/solo.json'))\
['pid'])"
}

# How many granted hellos of guest solo state root $1 records.
guest_hellos()
{
	grep '"vm":"solo"' "$1/handshakes/handshake-events.jsonl" |
	    grep -c '"session_outcome":"granted"'
}

# Does a message the host publishes on the bus of user $1's project
# reach its guest?  Then the guest has found the broker.
bus_delivered()
{
	"./castra-$1" bus publish --topic vm:solo --payload '{"ping":1}' \
	    2>&1 | grep -q "delivered to 1 session"
}

# Wait (at most 60 s) until it does.
bus_reaches_guest()
{
	wait_for 60 bus_delivered "$1" ||
	    atf_fail "the guest of $1 is not on the bus"
}

atf_test_case squat cleanup
squat_head()
{
	atf_set "descr" "a user who ups a project with another user's id" \
	    "first gets a project of their own; the other's up, status" \
	    "and down still work"
	atf_set "timeout" "300"
}
squat_body()
{
	require_root
	start_system
	mkuser a
	mkuser b
	client=$(atf_config_get builddir)/regress/hostile/ctlclient
	[ -x "$client" ] || atf_fail "$client is not built"

	# b computes a's id from a's project file, which b may read.
	./as-b castra -c "$PWD/a/proj/castra.conf" status --json >b.json ||
	    atf_fail "b's castra status of a's project failed"
	id=$(python3 -c "import json, os; \
print(os.path.basename(json.load(open('b.json'))['state_root']))")
	[ "$id" = "$(basename "$(status_as a "s['state_root']")")" ] ||
	    atf_fail "b computed $id, not a's id"

	# b brings a broker up under that id first, from a state root of
	# b's own and on a port of b's own.
	bport=$(free_port)
	./as-b mkdir "$PWD/b/squat"
	atf_check -o match:"^result 0 broker of hostile is listening" \
	    ./as-b env CTLCLIENT_ID="$id" CTLCLIENT_PORT="$bport" \
	    "$client" "$SOCK" foreign-root "$PWD/b/squat"
	greets "$bport" || atf_fail "b's broker does not listen"

	# a's project is a's own all the same.
	atf_check -o match:"is up" -o ignore ./castra-a up --wait
	check_status_as a "s['reachable']" "True"
	check_status_as a "s['broker']['state']" "listening"
	greets "$(broker_port a)" || atf_fail "a's broker does not listen"
	root=$(status_as a "s['state_root']")
	[ "$(owner_in "$root")" = "$(id -u csa$$)" ] ||
	    atf_fail "a's project.json names $(owner_in "$root")"
	[ "$(owner_in b/squat)" = "$(id -u csb$$)" ] ||
	    atf_fail "b's project.json names $(owner_in b/squat)"
	# One record each, under its owner's key.
	[ -f "sys/adopt/$(id -u csa$$).$id" ] || atf_fail "no record for a"
	[ -f "sys/adopt/$(id -u csb$$).$id" ] || atf_fail "no record for b"

	atf_check -o match:"solo: stopped" -o match:"is down" ./castra-a down
	check_status_as a "s['vms'][0]['state']" "stopped"
	[ -f "$root/overlays/solo.qcow2" ] && atf_fail "the overlay is left"
	[ -f "sys/adopt/$(id -u csa$$).$id" ] && atf_fail "a's record is left"
	# ...and b's project is still up, and still b's.
	greets "$bport" || atf_fail "a's down closed b's broker"
	[ -f "sys/adopt/$(id -u csb$$).$id" ] || atf_fail "b's record went"

	# b's castra, given a's project file, acts on b's project of that
	# id: b's down takes b's broker down, and leaves a's guest alone.
	atf_check -o match:"is up" -o ignore ./castra-a up --wait
	atf_check -o match:"is down" -o ignore \
	    ./as-b castra -c "$PWD/a/proj/castra.conf" down
	greets "$bport" && atf_fail "b's down left b's broker listening"
	[ -f "sys/adopt/$(id -u csb$$).$id" ] && atf_fail "b's record is left"
	check_status_as a "s['vms'][0]['state']" "running"
	check_status_as a "s['reachable']" "True"
	atf_check -o match:"is down" -o ignore ./castra-a down
}
squat_cleanup()
{
	stop_all
}

atf_test_case restart cleanup
restart_head()
{
	atf_set "descr" "a system castrad killed and started again adopts" \
	    "a user's running project in that user's home: status, the" \
	    "broker and down work as before"
	atf_set "timeout" "300"
}
restart_body()
{
	require_root
	start_system
	mkuser a
	atf_check -o match:"is up" -o ignore ./castra-a up --wait
	root=$(status_as a "s['state_root']")
	pid=$(qemu_pid a)
	rec=$(record_of a)

	# castrad's record of a's project: root's alone, with the path of
	# the state root as the kernel names it.
	check_perms sys/adopt "700 root root"
	check_perms "$rec" "600 root root"
	got=$(python3 -c "import json; r = json.load(open('$rec')); \
print(r['owner_uid'], r['state_root'])")
	[ "$got" = "$(id -u csa$$) $(realpath "$root")" ] ||
	    atf_fail "the record says $got"

	# SIGKILL: castrad cleans nothing up, its children follow it.
	stop_system KILL
	kill -0 "$pid" || atf_fail "QEMU ended with castrad"
	restart_system
	grep -q "adopted running VMs" castrad.log ||
	    atf_fail "castrad did not adopt a's project: $(cat castrad.log)"

	# status tells the truth, and the new broker is a's guest's.
	check_status_as a "s['vms'][0]['state']" "running"
	check_status_as a "s['vms'][0]['pid']" "$pid"
	check_status_as a "s['broker']['state']" "listening"
	broker=$(pgrep -P "$(cat castrad.bg)" -x castra-broker)
	check_status_as a "s['broker']['pid']" "$broker"
	bus_reaches_guest a
	check_status_as a "s['reachable']" "True"

	atf_check -o match:"solo: stopped" -o match:"is down" ./castra-a down
	check_status_as a "s['vms'][0]['state']" "stopped"
	gone "$pid" || atf_fail "QEMU still runs"
	[ -f "$root/overlays/solo.qcow2" ] && atf_fail "the overlay is left"
	[ -e "$rec" ] && atf_fail "the record is left"
	return 0
}
restart_cleanup()
{
	stop_all
}

atf_test_case tampered cleanup
tampered_head()
{
	atf_set "descr" "a restarted castrad refuses a record whose path" \
	    "now leads through a symbolic link, or to another user's" \
	    "directory, and adopts the same record untampered"
	atf_set "timeout" "300"
}
tampered_body()
{
	require_root
	start_system
	mkuser a
	mkuser b
	atf_check -o match:"is up" -o ignore ./castra-a up --wait
	root=$(status_as a "s['state_root']")
	pid=$(qemu_pid a)
	rec=$(record_of a)
	cp "$rec" rec.orig
	port=$(broker_port a)

	# SIGTERM: castrad stops its children and leaves the guests, and
	# its records, to the next one.
	stop_system TERM
	kill -0 "$pid" || atf_fail "QEMU ended with castrad"
	[ -f "$rec" ] || atf_fail "castrad removed its record on SIGTERM"

	# a swaps the state root for a link to it.
	./as-a mv "$root" "$root.real"
	./as-a ln -s "$root.real" "$root"
	restart_system
	grep -q "adopt/$(basename "$rec"): .*not adopted, record removed" \
	    castrad.log || atf_fail "no refusal logged: $(cat castrad.log)"
	[ -e "$rec" ] && atf_fail "the refused record is left"
	greets "$port" && atf_fail "castrad adopted through the link"
	./as-a rm "$root"
	./as-a mv "$root.real" "$root"

	# The record leads to a directory of b's.
	stop_system TERM
	python3 -c "import json; r = json.load(open('rec.orig')); \
r['state_root'] = '$PWD/b'; json.dump(r, open('$rec', 'w'))"
	chmod 600 "$rec"
	restart_system
	grep -q "adopt/$(basename "$rec"): the state root is not uid" \
	    castrad.log || atf_fail "no refusal logged: $(cat castrad.log)"
	[ -e "$rec" ] && atf_fail "the refused record is left"
	greets "$port" && atf_fail "castrad adopted b's directory"

	# The record as castrad wrote it: adopted.
	stop_system TERM
	cp -p rec.orig "$rec"
	restart_system
	grep -q "adopted running VMs" castrad.log ||
	    atf_fail "the untampered record was not adopted"
	greets "$port" || atf_fail "a's broker does not listen"
	atf_check -o match:"solo: stopped" -o match:"is down" ./castra-a down
	gone "$pid" || atf_fail "QEMU still runs"
	[ -f "$root/overlays/solo.qcow2" ] && atf_fail "the overlay is left"
	return 0
}
tampered_cleanup()
{
	stop_all
}

atf_test_case readonly_home cleanup
readonly_home_head()
{
	atf_set "descr" "restarted where users' homes are read-only by path" \
	    "(ProtectHome=read-only), castrad adopts a user's project and" \
	    "writes in it again once that user's castra sends its own view"
	atf_set "timeout" "300"
}
readonly_home_body()
{
	require_root
	command -v unshare >/dev/null || atf_skip "unshare is not installed"
	unshare -m --propagation private true 2>/dev/null ||
	    atf_skip "cannot make a mount namespace here"
	start_system
	mkuser a
	atf_check -o match:"is up" -o ignore ./castra-a up --wait
	root=$(status_as a "s['state_root']")
	pid=$(qemu_pid a)

	# castrad in a mount namespace of its own where a's home is
	# read-only, as the unit's ProtectHome makes it.
	stop_system TERM
	restart_system unshare -m --propagation private sh -c \
	    'mount -o bind,ro "$0" "$0" && exec "$@"' "$PWD/a"
	grep -q "adopted running VMs" castrad.log ||
	    atf_fail "castrad did not adopt a's project: $(cat castrad.log)"
	view=/proc/$(cat castrad.bg)/root$root
	[ -f "$view/project.json" ] || atf_fail "castrad does not see $root"
	touch "$view/probe" 2>/dev/null &&
	    atf_fail "a's home is writable in castrad's namespace"
	bus_reaches_guest a

	# a's up changes nothing but hands castrad a writable view: the
	# broker records the guest's hellos again, status is truthful.
	atf_check -o match:"already up" -o ignore ./castra-a up
	check_status_as a "s['broker']['pid']" \
	    "$(pgrep -P "$(cat castrad.bg)" -x castra-broker)"
	check_status_as a "s['broker']['state']" "listening"
	n=$(guest_hellos "$root")
	wait_for 40 '[ "$(guest_hellos "$root")" -gt "$n" ]' ||
	    atf_fail "no hello recorded in 40 s"
	check_status_as a "s['reachable']" "True"

	atf_check -o match:"solo: stopped" -o match:"is down" ./castra-a down
	gone "$pid" || atf_fail "QEMU still runs"
	[ -f "$root/overlays/solo.qcow2" ] && atf_fail "the overlay is left"
	check_status_as a "s['vms'][0]['state']" "stopped"

	# Brought up through that castrad, the project is recorded with
	# a path that leads back to it from castrad's namespace, and a
	# castrad started again there adopts it.
	atf_check -o match:"is up" -o ignore ./castra-a up --wait
	pid=$(qemu_pid a)
	[ -f "$(record_of a)" ] || atf_fail "no record: $(cat castrad.log)"
	stop_system TERM
	restart_system unshare -m --propagation private sh -c \
	    'mount -o bind,ro "$0" "$0" && exec "$@"' "$PWD/a"
	grep -q "adopted running VMs" castrad.log ||
	    atf_fail "castrad did not adopt a's project: $(cat castrad.log)"
	atf_check -o match:"solo: stopped" -o match:"is down" ./castra-a down
	gone "$pid" || atf_fail "QEMU still runs"
	[ -f "$root/overlays/solo.qcow2" ] && atf_fail "the overlay is left"
	return 0
}
readonly_home_cleanup()
{
	stop_all
}

atf_init_test_cases()
{
	atf_add_test_case squat
	atf_add_test_case restart
	atf_add_test_case tampered
	atf_add_test_case readonly_home
}
