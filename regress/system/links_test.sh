#! /usr/bin/env atf-sh
#
# The children of the system castrad run as the one _castra user for
# every user, in state directories that each user may write in too.
# User a plants links in a's own state root while a's guest runs, to
# another user's (b's) state and to the image cache, all of which
# _castra may write; then a makes the children write, rotate, restart
# and remove.  Nothing of b's, and nothing in the cache, may change; a
# gets a clear error or finds the link replaced; castrad and its
# children keep running.
#
# b's state directory is one that _castra can reach by path (castra.conf
# may put it anywhere), not ~/.castra, which _castra cannot walk into;
# and a's symbolic links are relative, which the broker's chroot does
# not stop, with a's own directories above a's state root open for the
# way up.

. "$(atf_get_srcdir)/common.sh"

# The pid of castrad's child $1.
child()
{
	ps -o pid=,stat=,comm= --ppid "$(cat castrad.bg)" |
	    awk -v n="$1" '$3 == n && $2 !~ /^[ZX]/ { print $1 }'
}

# castrad and its children run, the children still those of $1 (a
# "broker vmm" pair from children), unless it is empty.
check_alive()
{
	kill -0 "$(cat castrad.bg)" 2>/dev/null || atf_fail "castrad died"
	now="$(child castra-broker) $(child castra-vmm)"
	case "$now" in
	" "*|*" ")	atf_fail "a child of castrad is gone: $now" ;;
	esac
	[ -z "$1" ] || [ "$now" = "$1" ] ||
	    atf_fail "a child of castrad died and was restarted: $1 -> $now"
}

children()
{
	echo "$(child castra-broker) $(child castra-vmm)"
}

# castrad runs a child $1 other than pid $2.
new_child()
{
	_c=$(child "$1")
	[ -n "$_c" ] && [ "$_c" != "$2" ]
}

# The cached base image of the default image.
cache_entry()
{
	sha=$(sed -n 's/.*sha256 "\([0-9a-f]*\)".*/\1/p' \
	    "$(atf_config_get builddir)/image/default-image.conf" | head -1)
	[ -f "sys/images/sha256/$sha" ] || atf_fail "no cached $sha"
	echo "$PWD/sys/images/sha256/$sha"
}

# Mode, owner, size and SHA-256 of each file, and what each directory
# holds: what must not change.
snapshot()
{
	for f in "$@"; do
		if [ -d "$f" ]; then
			echo "$f: $(ls -A "$f" | tr '\n' ' ')"
		else
			echo "$f: $(stat -c '%a %U %G %s' "$f")" \
			    "$(sha256sum <"$f" | cut -d' ' -f1)"
		fi
	done
}

check_unchanged()
{
	snapshot $victims >after
	diff -u before after >&2 || atf_fail "a target changed: $1"
}

# A hello on user $1's broker as that user's guest solo, with its
# token: the broker writes handshakes/solo.json.  Prints the session.
guest_hello()
{
	python3 - "$(broker_port "$1")" "$2" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 10)
f = s.makefile("rb")
f.readline()
s.sendall(b"hello vm:solo capabilities=bus-v1 token=%s\n" %
          sys.argv[2].encode())
reply = f.readline().decode().strip()
if not reply.startswith("ok session="):
    sys.exit("the guest hello was refused: " + reply)
print(reply[len("ok session="):])
EOF
}

# plant -s|-h target name: a puts a symbolic link (-s) or a hard link
# (-h) at name in a's state root, in place of what was there.
plant()
{
	./as-a rm -f "$3" || atf_fail "a cannot remove $3"
	if [ "$1" = -s ]; then
		./as-a ln -s "$(realpath -m --relative-to="$(dirname "$3")" \
		    "$2")" "$3"
	else
		# This kernel stops a user from linking to a file they may
		# not write (fs.protected_hardlinks), but castra must not
		# count on it: root plants the hard links a would plant
		# on a host without it.
		ln "$2" "$3"
	fi || atf_fail "cannot plant $3"
}

# a's state root, with the directories above it open to all for the
# way up that a's relative links take.
a_root()
{
	_r=$(status_as a "s['state_root']")
	./as-a chmod 711 "$(dirname "$(dirname "$_r")")" "$(dirname "$_r")"
	echo "$_r"
}

# $1 is a regular file of _castra's with one link: one the children
# made anew, not a link that was planted.
check_fresh()
{
	[ -f "$1" ] && [ ! -L "$1" ] || atf_fail "$1 is not a regular file"
	got=$(stat -c '%h %U' "$1")
	[ "$got" = "1 _castra" ] ||
	    atf_fail "$1 has $got (links, owner), not 1 _castra"
}

# b's state directory, where _castra can reach it by path.
b_reachable()
{
	echo "state \"$PWD/b/state\"" >>b/proj/castra.conf
}

# b's project up and down again: b's state holds records and logs, and
# nothing of b's changes while a acts.
b_state()
{
	b_reachable
	atf_check -o match:"is up" -o ignore ./castra-b up --wait
	atf_check -o match:"is down" -o ignore ./castra-b down
	rootb=$(status_as b "s['state_root']")
	cache=$(cache_entry)
	victims="$rootb/vms/solo.json $rootb/handshakes/solo.json
	    $rootb/handshakes/handshake-events.jsonl $rootb/logs/broker.log
	    $rootb/logs/solo.log $rootb/logs/solo-serial.log $cache
	    $rootb/vms $rootb/handshakes $rootb/logs $rootb/logs/bus
	    $rootb/run $rootb/overlays"
	for f in $victims; do
		[ -e "$f" ] || atf_fail "$f is missing"
	done
	snapshot $victims >before
}

atf_test_case planted_files cleanup
planted_files_head()
{
	atf_set "descr" "links a user plants in place of records, logs," \
	    "the overlay and run files are replaced, never written through," \
	    "by a re-hello, the bus, a log rotation, a down and an up"
	atf_set "timeout" "300"
}
planted_files_body()
{
	require_root
	start_system
	mkuser a
	mkuser b
	b_state
	atf_check -o match:"is up" -o ignore ./castra-a up --wait
	root=$(a_root)
	token=$(cat "$root/run/solo.token")
	kids=$(children)
	check_alive "$kids"

	plant -s "$rootb/handshakes/solo.json" \
	    "$root/handshakes/.solo.json.tmp"
	plant -h "$cache" "$root/handshakes/solo.json"
	plant -h "$rootb/logs/broker.log" "$root/logs/bus/host.log"

	# The bus: the publisher's log is opened for each message.
	atf_check -o match:"delivered" ./castra-a bus publish \
	    --payload '{"planted":1}'
	check_unchanged "the bus"
	check_fresh "$root/logs/bus/host.log"
	grep -q '"planted":1' "$root/logs/bus/host.log" ||
	    atf_fail "logs/bus/host.log lacks the message"
	grep -q "logs/bus/host.log was a link or not a file; replaced it" \
	    castrad.log || atf_fail "the broker did not say it replaced a link"

	# A hello under the guest's name: its record is written again.
	session=$(guest_hello a "$token") || atf_fail "no guest hello"
	wait_for 10 \
	    grep -q "\"session\":\"$session\"" "$root/handshakes/solo.json" ||
	    atf_fail "no record of session $session"
	check_unchanged "the handshake record"
	check_fresh "$root/handshakes/solo.json"
	[ -e "$root/handshakes/.solo.json.tmp" ] &&
	    atf_fail "the temporary record is left"

	# What a down writes and removes, and the logs the broker opens
	# again when castrad hands it the state root for the down.
	plant -h "$rootb/vms/solo.json" "$root/vms/.solo.json.tmp"
	plant -h "$cache" "$root/overlays/solo.qcow2"
	plant -h "$rootb/logs/broker.log" "$root/logs/broker.log"
	plant -s "$rootb/handshakes/handshake-events.jsonl" \
	    "$root/handshakes/handshake-events.jsonl"
	atf_check -o match:"is down" -o ignore ./castra-a down
	check_unchanged "down"
	[ "$(stat -c %h "$cache")" = 1 ] ||
	    atf_fail "the link to the cache in overlays/ is left"
	[ -e "$root/overlays/solo.qcow2" ] && atf_fail "down left the overlay"
	check_fresh "$root/vms/solo.json"
	check_fresh "$root/logs/broker.log"
	grep -q '"state":"stopped"' "$root/vms/solo.json" ||
	    atf_fail "vms/solo.json does not say stopped"

	# What an up makes anew: the overlay, QEMU's logs and run files;
	# and a rotation of a broker log a made big, onto a link.
	plant -h "$cache" "$root/overlays/solo.qcow2"
	plant -h "$rootb/logs/solo.log" "$root/logs/solo.log"
	plant -h "$rootb/logs/solo-serial.log" "$root/logs/solo-serial.log"
	plant -s "$rootb/vms/solo.json" "$root/run/solo.token"
	plant -s "$rootb/logs/solo.log" "$root/logs/bus/bus.log"
	./as-a rm "$root/logs/broker.log"
	./as-a sh -c "truncate -s $((8 * 1024 * 1024 - 10)) \
$root/logs/broker.log && chmod 666 $root/logs/broker.log" ||
	    atf_fail "a cannot make a big logs/broker.log"
	plant -h "$rootb/logs/broker.log" "$root/logs/broker.log.1"
	atf_check -o match:"is up" -o ignore ./castra-a up --wait
	atf_check -o match:"delivered" ./castra-a bus publish \
	    --payload '{"again":1}'
	check_unchanged "up"
	[ "$(stat -c %h "$cache")" = 1 ] ||
	    atf_fail "the link to the cache in overlays/ is left"
	for f in overlays/solo.qcow2 logs/solo.log logs/solo-serial.log \
	    run/solo.token logs/broker.log logs/bus/bus.log \
	    handshakes/handshake-events.jsonl; do
		check_fresh "$root/$f"
	done
	[ "$(stat -c '%s %U' "$root/logs/broker.log.1")" = \
	    "$((8 * 1024 * 1024 - 10)) csa$$" ] ||
	    atf_fail "logs/broker.log was not rotated onto the link"
	check_status_as a "s['reachable']" "True"
	check_alive "$kids"
	atf_check -o match:"is down" -o ignore ./castra-a down
	check_unchanged "the last down"
	check_alive "$kids"
}
planted_files_cleanup()
{
	stop_all
}

atf_test_case swapped_dirs cleanup
swapped_dirs_head()
{
	atf_set "descr" "state directories a user swaps for links to" \
	    "another user's while a guest runs are not written through by" \
	    "the broker or castra-vmm, on a hello, the bus or the guest's end"
	atf_set "timeout" "300"
}
swapped_dirs_body()
{
	require_root
	start_system
	mkuser a
	mkuser b
	b_state
	atf_check -o match:"is up" -o ignore ./castra-a up --wait
	root=$(a_root)
	token=$(cat "$root/run/solo.token")
	qemu=$(status_as a "s['vms'][0]['pid']")
	kids=$(children)

	for d in handshakes vms overlays logs run; do
		./as-a mv "$root/$d" "$root/$d.real" ||
		    atf_fail "a cannot rename $d"
		plant -s "$rootb/$d" "$root/$d"
	done
	atf_check -o ignore -e ignore ./castra-a bus publish \
	    --payload '{"swapped":1}'
	guest_hello a "$token" >/dev/null || atf_fail "no guest hello"
	check_unchanged "a hello and the bus"
	wait_for 10 grep -q \
	    "handshakes/solo.json: Too many levels of symbolic links" \
	    castrad.log ||
	    atf_fail "no refused record"

	# castra refuses a down of a state root it cannot read.  The
	# guest ends anyway: castra-vmm cleans up after it, but not
	# through the links.
	atf_check -s not-exit:0 -o ignore \
	    -e match:"check the state directory" ./castra-a down
	kill -KILL "$qemu"
	wait_for 30 gone "$qemu" ||
	    atf_fail "no end of a's QEMU"
	wait_for 30 grep -q \
	    "solo: cannot remove its overlay: Too many levels of symbolic" \
	    castrad.log ||
	    atf_fail "no refused cleanup"
	check_unchanged "the guest's end"
	check_alive "$kids"

	for d in handshakes vms overlays logs run; do
		./as-a rm "$root/$d"
		./as-a mv "$root/$d.real" "$root/$d"
	done
	atf_check -o match:"is down" -o ignore ./castra-a down
	atf_check -o match:"is up" -o ignore ./castra-a up --wait
	atf_check -o match:"is down" -o ignore ./castra-a down
	check_unchanged "the last down"
	check_alive "$kids"
}
swapped_dirs_cleanup()
{
	stop_all
}

atf_test_case swapped_run cleanup
swapped_run_head()
{
	atf_set "descr" "a run directory a user swaps for a link to another" \
	    "user's does not lead a restarted castra-vmm to that user's" \
	    "QMP socket: a's down neither stops b's guest nor removes its" \
	    "socket"
	atf_set "timeout" "300"
}
swapped_run_body()
{
	require_root
	start_system
	mkuser a
	mkuser b
	# Without QMP, a's guest is stopped by SIGTERM after this wait.
	echo "wait graceful 2s" >>a/proj/castra.conf
	b_reachable
	atf_check -o match:"is up" -o ignore ./castra-a up --wait
	atf_check -o match:"is up" -o ignore ./castra-b up --wait
	root=$(a_root)
	rootb=$(status_as b "s['state_root']")
	qemua=$(status_as a "s['vms'][0]['pid']")
	qemub=$(status_as b "s['vms'][0]['pid']")
	[ -S "$rootb/run/solo.qmp" ] || atf_fail "b has no QMP socket"

	./as-a mv "$root/run" "$root/run.real"
	plant -s "$rootb/run" "$root/run"
	# A new castra-vmm adopts both guests, and connects to QMP again.
	old=$(child castra-vmm)
	kill -KILL "$old"
	wait_for 20 new_child castra-vmm "$old" ||
	    atf_fail "no new castra-vmm"
	wait_for 20 \
	    grep -q "adopted QEMU (pid $qemua)" castrad.log ||
	    atf_fail "no adoption of a's guest"

	atf_check -o match:"is down" -o ignore ./castra-a down
	gone "$qemua" || atf_fail "a's QEMU still runs"
	gone "$qemub" && atf_fail "b's QEMU was stopped by a's down"
	[ -S "$rootb/run/solo.qmp" ] || atf_fail "b's QMP socket was removed"
	check_status_as b "s['vms'][0]['state']" "running"
	grep -q "solo: connect run/solo.qmp: Too many levels of symbolic" \
	    castrad.log || atf_fail "castra-vmm did not say why QMP failed"
	check_alive ""

	./as-a rm "$root/run"
	./as-a mv "$root/run.real" "$root/run"
	# b's guest still answers on QMP: its down is graceful.
	atf_check -o match:"solo: powered off" ./castra-b down
}
swapped_run_cleanup()
{
	stop_all
}

atf_init_test_cases()
{
	atf_add_test_case planted_files
	atf_add_test_case swapped_dirs
	atf_add_test_case swapped_run
}
