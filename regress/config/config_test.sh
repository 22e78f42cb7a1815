#! /usr/bin/env atf-sh
#
# castra.conf(5) through `castra check`: golden files for good and bad
# configurations, exit codes, discovery, and `castra -n`.
#
# good/<name>.conf is printed and compared with good/<name>.ok, in which
# @DIR@ stands for the canonical directory of the file; <name>.flags, if
# there, holds extra global options (-D).  The printed form must parse
# again and print the same.  bad/<name>.conf must fail with exit 65 and
# exactly the lines of bad/<name>.err on stderr.

# atf_check runs programs, not shell functions: each body sets CASTRA.
bin()
{
	CASTRA="$(atf_config_get bindir)/castra"
	[ -x "$CASTRA" ] || atf_fail "$CASTRA was not built"
}

# Copy a directory of test files here, so that the tests write nothing
# in the source tree and see relative file names.
fixtures()
{
	cp -R "$(atf_config_get srcdir)/regress/config/$1" . ||
	    atf_fail "cannot copy the $1 files"
}

atf_test_case good_files
good_files_head()
{
	atf_set "descr" "good files print as their .ok files and round trip"
}
good_files_body()
{
	bin
	fixtures good
	cd good || atf_fail "no good directory"
	dir=$(pwd -P)
	n=0
	failed=
	for conf in *.conf; do
		base=${conf%.conf}
		flags=
		[ -f "$base.flags" ] && flags=$(cat "$base.flags")
		n=$((n + 1))
		# shellcheck disable=SC2086
		if ! "$CASTRA" $flags -c "$conf" check >"$base.out" \
		    2>"$base.stderr"; then
			cat "$base.stderr"
			failed="$failed $conf(exit)"
			continue
		fi
		if [ -s "$base.stderr" ]; then
			cat "$base.stderr"
			failed="$failed $conf(stderr)"
		fi
		sed "s|$dir|@DIR@|g" "$base.out" >"$base.got"
		if ! diff -u "$base.ok" "$base.got"; then
			failed="$failed $conf(output)"
		fi
		if ! "$CASTRA" -c "$base.out" check >"$base.again" 2>&1 ||
		    ! diff -u "$base.out" "$base.again"; then
			failed="$failed $conf(round trip)"
		fi
	done
	[ "$n" -ge 7 ] || atf_fail "only $n good files found"
	[ -z "$failed" ] || atf_fail "failed:$failed"
}

atf_test_case bad_files
bad_files_head()
{
	atf_set "descr" "bad files exit 65 with exactly their .err lines"
}
bad_files_body()
{
	bin
	fixtures bad
	cd bad || atf_fail "no bad directory"
	n=0
	failed=
	for conf in *.conf; do
		base=${conf%.conf}
		n=$((n + 1))
		"$CASTRA" -c "$conf" check >"$base.out" 2>"$base.got"
		rc=$?
		if [ "$rc" -ne 65 ]; then
			failed="$failed $conf(exit $rc)"
		fi
		if [ -s "$base.out" ]; then
			failed="$failed $conf(stdout)"
		fi
		if ! diff -u "$base.err" "$base.got"; then
			failed="$failed $conf(messages)"
		fi
	done
	[ "$n" -ge 10 ] || atf_fail "only $n bad files found"
	[ -z "$failed" ] || atf_fail "failed:$failed"
}

atf_test_case exit_codes
exit_codes_head()
{
	atf_set "descr" "missing files exit 66, bad usage 64"
}
exit_codes_body()
{
	bin
	fixtures good
	atf_check -s exit:66 -o empty \
	    -e match:"^nosuch.conf: No such file or directory$" \
	    "$CASTRA" -c nosuch.conf check
	mkdir adir
	atf_check -s exit:66 -o empty -e match:"^adir: Is a directory$" \
	    "$CASTRA" -c adir check
	atf_check -s exit:66 -o empty -e match:"not a regular file" \
	    "$CASTRA" -c /dev/null check
	atf_check -s exit:64 -o empty -e match:"usage: castra check" \
	    "$CASTRA" -c good/minimal.conf check extra
	atf_check -s exit:64 -o empty -e match:"usage: castra check" \
	    "$CASTRA" -c good/minimal.conf check -x
	atf_check -s exit:65 -o empty \
	    -e inline:"-D 1-x=3: name may hold only letters, digits and '_'\n" \
	    "$CASTRA" -D 1-x=3 -c good/minimal.conf check
}

atf_test_case dash_n
dash_n_head()
{
	atf_set "descr" "castra -n checks like castra check"
}
dash_n_body()
{
	bin
	fixtures good
	fixtures bad
	"$CASTRA" -c good/full.conf check >check.out || atf_fail "check failed"
	atf_check -s exit:0 -o file:check.out "$CASTRA" -n -c good/full.conf
	atf_check -s exit:0 -o file:check.out "$CASTRA" -c good/full.conf -n
	atf_check -s exit:65 -o empty -e file:bad/noproject.err \
	    sh -c "cd bad && \"$CASTRA\" -n -c noproject.conf"
}

atf_test_case discovery
discovery_head()
{
	atf_set "descr" "without -c, castra.conf is found upward and paths" \
	    "are relative to its folder"
}
discovery_body()
{
	bin
	mkdir -p project/a/b
	cat >project/castra.conf <<'CONF'
project "found"
image "castra-default" { url "file:///x" }
vm "v" { disk "base.qcow2" }
CONF
	top=$(cd project && pwd -P)
	ln -s project link
	cd link/a/b || atf_fail "cannot enter the project"
	atf_check -s exit:0 -o match:"^project \"found\"$" \
	    -o match:"^	disk \"$top/base.qcow2\"$" "$CASTRA" check
	cd "$top/.." || atf_fail "cannot leave the project"
	probe=$(pwd -P)
	while [ "$probe" != / ]; do
		probe=$(dirname "$probe")
		[ -e "$probe/castra.conf" ] &&
		    atf_skip "$probe/castra.conf exists above the test"
	done
	atf_check -s exit:66 -o empty -e match:"castra.conf: not found" \
	    "$CASTRA" check
}

atf_init_test_cases()
{
	atf_add_test_case good_files
	atf_add_test_case bad_files
	atf_add_test_case exit_codes
	atf_add_test_case dash_n
	atf_add_test_case discovery
}
