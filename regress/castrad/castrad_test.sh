#! /usr/bin/env atf-sh
#
# castrad as a process: its three children, who they run as and what
# confines them, restarts, shutdown, -n, and the control socket.  Each
# case starts a private castrad whose every path is under the case's
# own directory, and stops it again in its cleanup.

. "$(atf_get_srcdir)/../common.subr"

# Every process whose command line names this case's home.
home_procs()
{
	for f in /proc/[0-9]*/cmdline; do
		case "$(tr '\0' ' ' <"$f" 2>/dev/null)" in
		*"-H $CASTRA_HOME "*)
			echo "$f" | cut -d/ -f3;;
		esac
	done
	return 0
}

castrad_cleanup()
{
	castrad_stop
	for p in $(home_procs); do
		kill -KILL "$p" 2>/dev/null
	done
	return 0
}

status_field()
{
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" |
	    sed 's/[[:space:]]*$//'
}

# Whether process $1 runs as uid $2 with no_new_privs, and, if the
# sandbox is strict ($3), with a seccomp filter.
confined()
{
	[ "$(status_field $1 Uid)" = "$2	$2	$2	$2" ] &&
	    [ "$(status_field $1 NoNewPrivs)" = 1 ] &&
	    { [ "$3" != strict ] || [ "$(status_field $1 Seccomp)" = 2 ]; }
}

# The supplementary groups of process $1, ascending, on one line.
proc_groups()
{
	status_field $1 Groups | tr ' ' '\n' | sort -n | xargs
}

# As root, the children hold _castra's groups from the group database;
# as a user, castrad's own (process $1).
expected_groups()
{
	if [ "$(id -u)" -eq 0 ]; then
		id -G _castra | tr ' ' '\n' | sort -n | xargs
	else
		proc_groups $1
	fi
}

expected_uid()
{
	if [ "$(id -u)" -eq 0 ]; then
		id -u _castra
	else
		id -u
	fi
}

atf_test_case processes cleanup
processes_head()
{
	atf_set "descr" "castrad runs castra-broker, castra-vmm and" \
	    "castra-imgd, each as _castra (root) or the user, confined"
}
processes_body()
{
	castrad_start
	pid=$(cat castrad.started)
	atf_check_equal "$(cat /proc/$pid/comm)" castrad
	atf_check_equal "$(castrad_pid)" "$pid"
	atf_check_equal "$(status_field $pid Uid | cut -f 1)" "$(id -u)"

	uid=$(expected_uid)
	groups=$(expected_groups $pid)
	sandbox=$(atf_config_get sandbox strict)
	fail=
	for c in castra-broker castra-vmm castra-imgd; do
		cpid=$(child_pid $c)
		atf_check_equal "$(cat /proc/$cpid/comm)" "$c"
		# The child confines itself once started; give it a moment.
		wait_for 10 "confined $cpid $uid $sandbox"
		if [ "$(status_field $cpid Uid)" != \
		    "$uid	$uid	$uid	$uid" ]; then
			echo "$c: Uid $(status_field $cpid Uid), want $uid" >&2
			fail="$fail $c:uid"
		fi
		if [ "$(proc_groups $cpid)" != "$groups" ]; then
			echo "$c: Groups $(proc_groups $cpid), want $groups" >&2
			fail="$fail $c:groups"
		fi
		nnp=$(status_field $cpid NoNewPrivs)
		if [ "$nnp" != 1 ]; then
			echo "$c: NoNewPrivs $nnp, want 1" >&2
			fail="$fail $c:nnp"
		fi
		seccomp=$(status_field $cpid Seccomp)
		if [ "$sandbox" = strict ] && [ "$seccomp" != 2 ]; then
			echo "$c: Seccomp $seccomp, want 2" >&2
			fail="$fail $c:seccomp"
		fi
	done
	# As root, the broker needs no path at all: it is locked away.
	if [ "$(id -u)" -eq 0 ] && [ "$sandbox" = strict ]; then
		root=$(readlink /proc/$(child_pid castra-broker)/root)
		if [ "$root" != "$CASTRA_HOME/empty" ]; then
			echo "castra-broker: root $root," \
			    "want $CASTRA_HOME/empty" >&2
			fail="$fail castra-broker:chroot"
		fi
	fi
	[ -z "$fail" ] || atf_fail "not confined:$fail"
}
processes_cleanup()
{
	castrad_cleanup
}

atf_test_case report_mode cleanup
report_mode_head()
{
	atf_set "descr" "castrad -S passes -S on, and each child's" \
	    "seccomp filter then reports instead of killing"
}
report_mode_body()
{
	[ "$(atf_config_get sandbox strict)" = strict ] ||
	    atf_skip "relaxed sandbox: no seccomp"
	castrad_start -S
	pid=$(cat castrad.started)
	for c in castra-broker castra-vmm castra-imgd; do
		cpid=$(child_pid $c)
		atf_check -o match:" -S " tr '\0' ' ' </proc/$cpid/cmdline
		wait_for 10 \
		    "grep -q '^$c: seccomp in report mode' castrad.log" ||
		    atf_fail "$c does not say it reports forbidden calls"
	done
}
report_mode_cleanup()
{
	castrad_cleanup
}

atf_test_case restart cleanup
restart_head()
{
	atf_set "descr" "a child killed with SIGKILL is started again," \
	    "and its siblings are left alone"
}
restart_body()
{
	castrad_start
	pid=$(cat castrad.started)
	uid=$(expected_uid)
	sandbox=$(atf_config_get sandbox strict)
	for c in castra-broker castra-vmm castra-imgd; do
		old=$(child_pid $c)
		others=$(pgrep -P $pid | grep -v "^$old\$" | sort | tr '\n' ' ')
		kill -KILL "$old"
		wait_for 10 "p=\$(child_pid $c) && [ \"\$p\" != $old ]" ||
		    atf_fail "$c (pid $old) was not started again"
		new=$(child_pid $c)
		atf_check_equal "$(cat /proc/$new/comm)" "$c"
		wait_for 10 "confined $new $uid $sandbox" ||
		    atf_fail "$c (pid $new) was started again unconfined"
		now=$(pgrep -P $pid | grep -v "^$new\$" | sort | tr '\n' ' ')
		atf_check_equal "$now" "$others"
		atf_check -o ignore \
		    grep -E "$c.* $old.* signal 9" castrad.log
	done
	kill -0 "$pid" || atf_fail "castrad died"
}
restart_cleanup()
{
	castrad_cleanup
}

atf_test_case sigterm cleanup
sigterm_head()
{
	atf_set "descr" "SIGTERM to castrad leaves no child, pid file" \
	    "or socket behind"
}
sigterm_body()
{
	castrad_start
	pid=$(cat castrad.started)
	kids=$(pgrep -P $pid | tr '\n' ' ')
	atf_check_equal "$(echo $kids | wc -w)" 3
	kill -TERM "$pid"
	wait_for 10 "gone $pid" ||
	    atf_fail "castrad $pid still runs after SIGTERM"
	wait "$pid"
	atf_check_equal "$?" 0
	wait_for 10 '[ -z "$(home_procs)" ]' ||
	    atf_fail "left behind: $(home_procs)"
	atf_check -s exit:1 test -e "$CASTRA_HOME/castrad.sock"
	atf_check -s exit:1 test -e "$CASTRA_HOME/castrad.pid"
}
sigterm_cleanup()
{
	castrad_cleanup
}

atf_test_case check
check_head()
{
	atf_set "descr" "castrad -n checks its setup and exits without" \
	    "starting anything"
}
check_body()
{
	bindir=$(atf_config_get bindir)
	atf_check -s exit:0 -o empty -e match:"configuration OK" \
	    "$bindir/castrad" -n -H "$CASTRA_HOME"
	atf_check -s exit:1 test -e "$CASTRA_HOME/castrad.pid"

	# Without its children beside it, castrad says which are missing.
	mkdir alone
	cp "$bindir/castrad" alone/
	atf_check -s exit:1 -o empty -e match:"castra-broker" \
	    ./alone/castrad -n -H "$CASTRA_HOME"
}

atf_test_case socket cleanup
socket_head()
{
	atf_set "descr" "the control socket is the owner's alone, or" \
	    "root's and the castra group's for a service"
}
socket_body()
{
	castrad_start
	sock=$CASTRA_HOME/castrad.sock
	if [ "$(id -u)" -eq 0 ] && getent group castra >/dev/null; then
		want="660 root castra"
	else
		want="600 $(id -un) $(id -gn)"
	fi
	atf_check -o inline:"socket $want\n" \
	    stat -c '%F %a %U %G' "$sock"
}
socket_cleanup()
{
	castrad_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case processes
	atf_add_test_case report_mode
	atf_add_test_case restart
	atf_add_test_case sigterm
	atf_add_test_case check
	atf_add_test_case socket
}
