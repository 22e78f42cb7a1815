#! /usr/bin/env atf-sh
#
# castrad's control socket under attack.  Each case starts a private
# castrad whose every path is under a directory of its own, lets the
# hostile client (ctlclient.c) misbehave against it, and then checks
# that castrad still runs, has closed every descriptor the attacks
# gave it, and still brings up the broker of a small project for a
# well-behaved castra.

. "$(atf_get_srcdir)/../common.subr"

# A fetch from nowhere fails at once rather than after retries.
export CASTRA_IMGD_RETRIES=1 CASTRA_IMGD_BACKOFF_MS=1

sock()
{
	echo "$CASTRA_HOME/castrad.sock"
}

ctlclient()
{
	"$(atf_config_get builddir)/regress/hostile/ctlclient" "$(sock)" "$@"
}

fd_count()
{
	ls "/proc/$1/fd" | wc -l
}

castrad_alive()
{
	kill -0 "$(castrad_pid)" 2>/dev/null ||
	    { cat castrad.log >&2; atf_fail "castrad died: $1"; }
}

castrad_cleanup()
{
	castrad_stop
	if [ -f castrad.tmpdir ]; then
		rm -rf "$(cat castrad.tmpdir)"
	fi
	return 0
}

# A project whose broker castra brings up and down again, as its user.
well_behaved()
{
	bindir=$(atf_config_get bindir)
	builddir=$(atf_config_get builddir)
	[ -f "$builddir/image/default-image.conf" ] ||
	    atf_fail "the default image is not built: run make image"
	mkdir -p good
	{
		echo "project \"good\""
		echo "broker port $(free_port)"
		echo "include \"$builddir/image/default-image.conf\""
		echo "vm \"solo\" {"
		echo "	image \"castra-default\""
		echo "}"
	} >good/castra.conf
	# The castrad under attack, not one that castra would start.
	[ -S "$(sock)" ] || atf_fail "castrad is not listening $1"
	(cd good && "$bindir/castra" up --broker-only) >good.out 2>&1 ||
	    { cat good.out castrad.log >&2;
	    atf_fail "castra up --broker-only failed $1"; }
	atf_check -o match:"listening" cat good.out
	(cd good && "$bindir/castra" down) >good.out 2>&1 ||
	    { cat good.out castrad.log >&2; atf_fail "castra down failed $1"; }
}

# Run an attack and check what castrad did, one line of ctlclient's.
attack()
{
	_want=$1
	shift
	_got=$(ctlclient "$@")
	case "$_got" in
	$_want)
		;;
	*)
		cat castrad.log >&2
		atf_fail "attack $1: castrad answered \"$_got\", not $_want"
		;;
	esac
	castrad_alive "after attack $1"
}

atf_test_case malformed cleanup
malformed_head()
{
	atf_set "descr" "bad bytes, bad sizes, bad descriptors and bad" \
	    "sequences close the connection or get a clear result," \
	    "castrad leaks nothing and keeps serving castra"
}
malformed_body()
{
	castrad_start
	pid=$(castrad_pid)
	mkdir root
	before=$(fd_count "$pid")

	attack closed garbage
	attack closed early root
	attack "result 70 *speaks a different protocol*" hello-size
	attack "result 70 *control protocol 99 but castrad*" hello-version
	attack closed oversized
	attack closed over-max
	attack closed short-header
	attack closed truncated
	attack closed fd-hello
	attack closed fd-unclaimed
	attack closed fd-vm root
	attack closed project-nofd root
	attack closed extra-vm root
	attack closed extra-image root
	attack closed wrong-id root
	attack closed unknown-type
	attack closed pull-upper

	# Every descriptor that came with the attacks was closed.
	wait_for 10 '[ "$(fd_count $pid)" -eq "$before" ]' ||
	    atf_fail "castrad had $before descriptors, now" \
	    "$(fd_count $pid): $(ls -l /proc/$pid/fd)"
	# Nothing was made in the state root it was shown.
	atf_check -o empty ls root
	well_behaved "after the attacks"
}
malformed_cleanup()
{
	castrad_cleanup
}

atf_test_case idle cleanup
idle_head()
{
	atf_set "descr" "70 connections that never say hello neither" \
	    "stop castrad nor keep castra out"
}
idle_body()
{
	castrad_start
	"$(atf_config_get builddir)/regress/hostile/ctlclient" "$(sock)" \
	    idle 70 >idle.out &
	echo $! >idle.pid
	wait_for 10 'grep -qs "70 connected" idle.out' ||
	    atf_fail "ctlclient could not connect 70 times: $(cat idle.out)"
	wait_for 10 'grep -q "said nothing; closed to make room" castrad.log' ||
	    atf_fail "castrad did not make room: $(tail castrad.log)"
	castrad_alive "with 70 idle connections"
	well_behaved "while 70 idle connections are open"
	kill -0 "$(cat idle.pid)" || atf_fail "the idle client is gone"
}
idle_cleanup()
{
	if [ -f idle.pid ]; then
		pid=$(cat idle.pid)
		kill "$pid" 2>/dev/null
		wait_for 10 "gone $pid"
	fi
	castrad_cleanup
}

atf_test_case vanish cleanup
vanish_head()
{
	atf_set "descr" "a client that goes away in the middle of an up" \
	    "leaves castrad to finish it alone"
}
vanish_body()
{
	castrad_start
	mkdir root
	atf_check -o inline:"gone\n" env CTLCLIENT_PORT="$(free_port)" \
	    "$(atf_config_get builddir)/regress/hostile/ctlclient" \
	    "$(sock)" vanish root
	# The up went on without its client, and failed on its image.
	wait_for 10 'grep -q "hostile-0123abcd: image img:" castrad.log' ||
	    atf_fail "castrad did not finish the up: $(tail castrad.log)"
	castrad_alive "after its client vanished"
	[ -f root/project.json ] || atf_fail "the up never began"
	well_behaved "after a client vanished"
}
vanish_cleanup()
{
	castrad_cleanup
}

atf_test_case foreign_root cleanup
foreign_root_head()
{
	atf_set "descr" "a state root that the client does not own is" \
	    "refused"
}
foreign_root_body()
{
	[ "$(id -u)" -ne 0 ] ||
	    atf_skip "root may act on every state root; see unprivileged"
	castrad_start
	attack "result 73 *belongs to uid 0, not to you*" foreign-root /
	well_behaved "after a foreign state root"
}
foreign_root_cleanup()
{
	castrad_cleanup
}

atf_test_case unprivileged cleanup
unprivileged_head()
{
	atf_set "descr" "another user cannot connect to root's castrad," \
	    "and with the socket opened up, cannot use a state root of" \
	    "root's"
	atf_set "require.user" "root"
}
unprivileged_body()
{
	command -v setpriv >/dev/null || atf_skip "setpriv is not installed"
	id nobody >/dev/null 2>&1 || atf_skip "there is no user nobody"
	# The case's own directory is root's alone; nobody must reach
	# the socket to be refused by it rather than by a directory.
	dir=$(mktemp -d /tmp/castra-hostile.XXXXXX)
	echo "$dir" >castrad.tmpdir
	chmod 755 "$dir"
	CASTRA_HOME="$dir/home"
	castrad_start
	client="$(atf_config_get builddir)/regress/hostile/ctlclient"
	[ -x "$client" ] && setpriv --reuid=nobody --regid=nogroup \
	    --clear-groups test -x "$client" ||
	    atf_skip "nobody cannot run $client"
	as_nobody="setpriv --reuid=nobody --regid=nogroup --clear-groups"

	mode=$(stat -c %a "$(sock)")
	case "$mode" in
	600|660) ;;
	*) atf_fail "the socket has mode $mode";;
	esac
	atf_check -o inline:"refused Permission denied\n" \
	    $as_nobody "$client" "$(sock)" garbage
	castrad_alive "after nobody knocked"

	# Past the socket's mode, castrad itself still says no.
	mkdir -m 755 "$dir/rootsdir"
	chmod 666 "$(sock)"
	atf_check -o match:"^result 73 .*belongs to uid 0, not to you" \
	    $as_nobody "$client" "$(sock)" foreign-root "$dir/rootsdir"
	chmod "$mode" "$(sock)"
	atf_check -o empty ls "$dir/rootsdir"
	castrad_alive "after nobody sent root's state root"
	well_behaved "after nobody's attempts"
}
unprivileged_cleanup()
{
	castrad_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case malformed
	atf_add_test_case idle
	atf_add_test_case vanish
	atf_add_test_case foreign_root
	atf_add_test_case unprivileged
}
