#! /usr/bin/env atf-sh
#
# castrad as a system service: root runs it, as its unit would, with
# its control socket group-accessible to `castra`; ordinary users made
# for the test case (and removed after it) run projects of their own
# through it, and must not reach one another's.  Every path is under
# the test case's own directory.

. "$(atf_get_srcdir)/common.sh"

atf_test_case two_users cleanup
two_users_head()
{
	atf_set "descr" "castrad as root serves two users of the castra" \
	    "group, each with a project of their own under their home"
	atf_set "timeout" "300"
}
two_users_body()
{
	require_root
	start_system
	check_perms sys/castrad.sock "660 root castra"
	mkuser a
	mkuser b

	atf_check -o match:"is up" -o ignore ./castra-a up --wait
	atf_check -o match:"is up" -o ignore ./castra-b up --wait
	for t in a b; do
		check_status_as $t "s['reachable']" "True"
		check_status_as $t "s['vms'][0]['state']" "running"
		root=$(status_as $t "s['state_root']")
		case "$root" in
		"$PWD/$t/.castra/projects/"*) ;;
		*)	atf_fail "$t: the state root is $root" ;;
		esac
		check_perms "$root" "710 cs$t$$ _castra"
		check_perms "$root/token" "600 cs$t$$ cs$t$$"
		uid=$(python3 -c "import json; \
print(json.load(open('$root/project.json'))['owner_uid'])")
		[ "$uid" = "$(id -u cs$t$$)" ] ||
		    atf_fail "$t: project.json says owner $uid"
		# The owner reads what the children wrote for it.
		as $t cat "$root/logs/broker.log" >/dev/null ||
		    atf_fail "$t cannot read its own logs/broker.log"
		as $t cat "$root/logs/solo-serial.log" >/dev/null ||
		    atf_fail "$t cannot read its own logs/solo-serial.log"
		atf_check -o not-empty ./castra-$t logs broker
		atf_check -o not-empty ./castra-$t logs solo
	done

	# Outside the castra group, the socket is closed to a user.
	atf_check -s not-exit:0 -e match:"Permission denied" \
	    setpriv --reuid "csa$$" --regid "csa$$" --clear-groups \
	    env -i PATH="$(atf_config_get bindir):$PATH" HOME="$PWD/a" \
	    CASTRA_SOCKET="$SOCK" castra -c "$PWD/a/proj/castra.conf" down
	check_status_as a "s['reachable']" "True"

	atf_check -o match:"is down" -o ignore ./castra-a down
	check_status_as a "s['vms'][0]['state']" "stopped"
	check_status_as b "s['vms'][0]['state']" "running"
	atf_check -o match:"is down" -o ignore ./castra-b down

	# What the children wrote, the owner may clean.
	root=$(status_as a "s['state_root']")
	[ -f "$root/logs/solo-serial.log" ] || atf_fail "no serial log"
	atf_check -o ignore ./castra-a clean
	[ -e "$root/logs/solo-serial.log" ] &&
	    atf_fail "clean left logs/solo-serial.log"
	return 0
}
two_users_cleanup()
{
	stop_all
}

atf_test_case others_refused cleanup
others_refused_head()
{
	atf_set "descr" "a user can neither stop nor read another user's" \
	    "project, nor pass castrad another user's directory"
	atf_set "timeout" "300"
}
others_refused_body()
{
	require_root
	start_system
	mkuser a
	mkuser b
	atf_check -o match:"is up" -o ignore ./castra-a up --wait
	root=$(status_as a "s['state_root']")

	# b reads a's project file, and asks for it to go down or up: b's
	# castra names b's own state root, so that is b's own project of
	# the same id, and a's broker port is taken.
	atf_check -o match:"is down" -o ignore \
	    ./as-b castra -c "$PWD/a/proj/castra.conf" down
	atf_check -s not-exit:0 -e match:"$(broker_port a)" -o ignore \
	    ./as-b castra -c "$PWD/a/proj/castra.conf" up
	check_status_as a "s['reachable']" "True"
	check_status_as a "s['vms'][0]['state']" "running"
	# b's status of the same file is about b's own state, not a's.
	./as-b castra -c "$PWD/a/proj/castra.conf" status --json >b.json ||
	    atf_fail "b's castra status failed"
	got=$(python3 -c "import json; s = json.load(open('b.json')); \
print(s['reachable'], s['state_root'].startswith('$PWD/b/'))")
	[ "$got" = "False True" ] || atf_fail "b's status says $got"

	# Nothing under a's state root is b's to read.
	for f in token project.json logs/broker.log logs/solo-serial.log \
	    handshakes/handshake-events.jsonl vms/solo.json; do
		[ -e "$root/$f" ] || atf_fail "$root/$f is missing"
		as a cat "$root/$f" >/dev/null || atf_fail "a cannot read $f"
		as b cat "$root/$f" >/dev/null 2>&1 && atf_fail "b reads $f"
	done
	as b ls "$root" >/dev/null 2>&1 && atf_fail "b lists a's state root"

	# The image cache is everyone's: no user empties it.
	sha=$(sed -n 's/.*sha256 "\([0-9a-f]*\)".*/\1/p' \
	    "$(atf_config_get builddir)/image/default-image.conf" | head -1)
	[ -f "sys/images/sha256/$sha" ] || atf_fail "no cached $sha"
	atf_check -s exit:77 -o ignore -e match:"only root removes images" \
	    ./castra-b image rm "$sha"
	[ -f "sys/images/sha256/$sha" ] || atf_fail "b removed $sha"
	# ...and each user sees it: the cache beside the socket.
	atf_check -o match:"$(echo "$sha" | cut -c1-12)" ./castra-b image list

	# A state root that is a's directory, handed over by b's castra.
	mkdir -p a/pub/vms a/pub/overlays a/pub/run a/pub/handshakes \
	    a/pub/logs/bus
	python3 -c 'print("ab" * 32, end="")' >a/pub/token
	chown -R "csa$$:" a/pub
	chmod -R a+rX a/pub
	echo "state \"$PWD/a/pub\"" >>b/proj/castra.conf
	atf_check -s exit:73 -e match:"belongs to uid $(id -u csa$$)" \
	    -o ignore ./castra-b up
	# The same, by a client of b's own making.
	client=$(atf_config_get builddir)/regress/hostile/ctlclient
	if [ -x "$client" ]; then
		atf_check -o match:"^result 73 .*belongs to uid" \
		    ./as-b "$client" "$SOCK" foreign-root "$PWD/a/pub"
	fi
	check_perms a/pub "755 csa$$ csa$$"
	check_perms a/pub/logs "755 csa$$ csa$$"
	check_perms a/pub/token "644 csa$$ csa$$"
	[ -e a/pub/project.json ] && atf_fail "castrad wrote in a/pub"

	# root acts on every project: the one whose state root it names.
	atf_check -o match:"is down" -o ignore env CASTRA_SOCKET="$SOCK" \
	    CASTRA_HOME="$PWD/a/.castra" \
	    "$(atf_config_get bindir)/castra" -c "$PWD/a/proj/castra.conf" down
	check_status_as a "s['vms'][0]['state']" "stopped"
}
others_refused_cleanup()
{
	stop_all
}

atf_test_case planted_links cleanup
planted_links_head()
{
	atf_set "descr" "symbolic links a user plants in their own state" \
	    "root make neither castrad nor its children touch their targets"
	atf_set "timeout" "300"
}
planted_links_body()
{
	require_root
	start_system
	mkuser b
	root=$(status_as b "s['state_root']")
	as b mkdir -p "$root/vms" "$root/overlays" "$root/run" \
	    "$root/handshakes" "$root/logs/bus"

	# What the links point at: a directory _castra could write (as
	# another project's logs are) and a file only root may read.
	mkdir victim
	echo victim >victim/solo.log
	chown -R _castra: victim
	chmod 700 victim
	chmod 600 victim/solo.log
	echo secret >secret
	chmod 600 secret
	snapshot() {
		{ perms victim; ls -la victim; cat victim/solo.log;
		  perms secret; cat secret; } 2>&1
	}
	snapshot >before

	# up as $1 is refused with $2, and no target changed.
	refused() {
		atf_check -s not-exit:0 -o ignore -e match:"$2" \
		    "./castra-$1" up --wait
		snapshot >after
		diff -u before after >&2 ||
		    atf_fail "a target changed: $2"
	}

	as b ln -s "$PWD/secret" "$root/vms/solo.json"
	as b ln -s "$PWD/secret" "$root/overlays/solo.qcow2"
	as b rmdir "$root/handshakes"
	as b ln -s "$PWD/victim" "$root/handshakes"
	as b ln -s "$PWD/victim/solo.log" "$root/logs/solo-serial.log"

	# castrad refuses each in turn, in the order it checks them, and
	# touches none of their targets; b removes each one it names.
	atf_check -s not-exit:0 -o ignore \
	    -e match:"vms/solo.json in the state root is a symbolic link" \
	    ./castra-b down
	refused b "vms/solo.json in the state root is a symbolic link"
	as b rm "$root/vms/solo.json"
	refused b "overlays/solo.qcow2 in the state root is a symbolic link"
	as b rm "$root/overlays/solo.qcow2"
	refused b "handshakes in the state root is not a directory"
	as b rm "$root/handshakes"
	as b mkdir "$root/handshakes"
	refused b "logs/solo-serial.log in the state root is a symbolic link"
	as b rm "$root/logs/solo-serial.log"

	# Once they are gone, b's project comes up as usual.
	atf_check -o match:"is up" -o ignore ./castra-b up --wait
	atf_check -o match:"is down" -o ignore ./castra-b down
	snapshot >after
	diff -u before after >&2 || atf_fail "the targets changed"
}
planted_links_cleanup()
{
	stop_all
}

atf_test_case swapped_logs cleanup
swapped_logs_head()
{
	atf_set "descr" "a logs directory a user swaps for a link while" \
	    "a guest starts is not read through by castrad, as root, to" \
	    "say why the guest did not come up"
	atf_set "timeout" "300"
}
swapped_logs_body()
{
	require_root
	# up --wait gives up soon and quotes the guest's serial log.
	export CASTRA_UP_TIMEOUT=6
	start_system
	mkuser b
	# A guest that never says hello: with no root file system, its
	# kernel panics and then waits for ever.
	nohello='rdinit=/none root=/dev/none panic=0'
	sed -e 's/image "castra-default"/image "broken"/' \
	    -e "s|cmdline \"\\(.*\\)\"|cmdline \"\\1 $nohello\"|" \
	    "$(atf_config_get builddir)/image/default-image.conf" \
	    >b/proj/broken.conf
	sed -i -e 's/image "castra-default"/image "broken"/' \
	    -e '/^include/a include "broken.conf"' b/proj/castra.conf
	# A panicked kernel ignores the power button: no long wait for it.
	echo "wait graceful 1s" >>b/proj/castra.conf
	chown "csb$$:" b/proj/broken.conf
	root=$(status_as b "s['state_root']")

	# Another user's logs, which only root may read.
	mkdir victim
	echo "SECRET-LINE-42" >victim/solo-serial.log
	chmod 700 victim
	chmod 600 victim/solo-serial.log

	./castra-b up --wait >up.out 2>up.err &
	up=$!
	# Once QEMU runs (its files open, QMP answering), swap logs/ for a
	# link to the victim.
	wait_for 30 \
	    '[ "$(json_get "$root/vms/solo.json" state 2>/dev/null)" = running ]' ||
	    atf_fail "QEMU did not start in 30 s"
	./as-b mv "$root/logs" "$root/logs.real" ||
	    atf_fail "b cannot rename logs"
	./as-b ln -s "$PWD/victim" "$root/logs"
	kill -0 $up 2>/dev/null ||
	    atf_fail "up ended before the link was planted"
	wait $up && atf_fail "up of a guest that never says hello succeeded"
	cat up.err >&2
	grep -q "did not say hello" up.err ||
	    atf_fail "up did not fail for want of a hello"
	grep -q SECRET up.out up.err &&
	    atf_fail "castrad read through b's link"
	./as-b rm "$root/logs"
	./as-b mv "$root/logs.real" "$root/logs"
	return 0
}
swapped_logs_cleanup()
{
	stop_all
}

atf_test_case forged_record cleanup
forged_record_head()
{
	atf_set "descr" "a VM record a user forges in their own state root" \
	    "does not let that user's down stop another user's guest"
	atf_set "timeout" "300"
}
forged_record_body()
{
	require_root
	start_system
	mkuser a
	mkuser b
	atf_check -o match:"is up" -o ignore ./castra-a up --wait
	aroot=$(status_as a "s['state_root']")
	broot=$(status_as b "s['state_root']")
	pid=$(python3 -c "import json; \
print(json.load(open('$aroot/vms/solo.json'))['pid'])")

	# Every field of a's record is in /proc/<pid> for anyone to read
	# (start time, command line); b writes them as a record of its own.
	./as-b mkdir -p "$broot/vms" "$broot/overlays" "$broot/run" \
	    "$broot/handshakes" "$broot/logs/bus"
	./as-b sh -c "cat >'$broot/vms/solo.json'" <"$aroot/vms/solo.json"
	./castra-b down >down.out 2>&1
	cat down.out
	kill -0 "$pid" 2>/dev/null || atf_fail "b's down stopped a's QEMU"
	check_status_as a "s['vms'][0]['state']" "running"
	check_status_as a "s['reachable']" "True"
	atf_check -o match:"is down" -o ignore ./castra-a down
}
forged_record_cleanup()
{
	stop_all
}

atf_test_case restart_down cleanup
restart_down_head()
{
	atf_set "descr" "a user's guest outlives a restart of the system" \
	    "castrad, and that user's down still stops it"
	atf_set "timeout" "300"
}
restart_down_body()
{
	require_root
	start_system
	mkuser a
	atf_check -o match:"is up" -o ignore ./castra-a up --wait
	root=$(status_as a "s['state_root']")
	pid=$(python3 -c "import json; \
print(json.load(open('$root/vms/solo.json'))['pid'])")

	kill "$(cat castrad.bg)"
	wait_for 10 gone "$(cat castrad.bg)" ||
	    atf_fail "castrad did not stop in 10 s"
	kill -0 "$pid" || atf_fail "QEMU ended with castrad"
	start_system

	atf_check -o match:"solo: stopped" -o match:"is down" \
	    ./castra-a down
	check_status_as a "s['vms'][0]['state']" "stopped"
	[ -f "$root/overlays/solo.qcow2" ] && atf_fail "the overlay is left"
	return 0
}
restart_down_cleanup()
{
	stop_all
}

atf_init_test_cases()
{
	atf_add_test_case two_users
	atf_add_test_case others_refused
	atf_add_test_case planted_links
	atf_add_test_case swapped_logs
	atf_add_test_case forged_record
	atf_add_test_case restart_down
}
