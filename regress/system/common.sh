# Helpers of the regress/system scripts: castrad as root, as its unit
# runs it, and users made for a test case (removed after it) who run
# castra through it.  A script sources it with
#	. "$(atf_get_srcdir)/common.sh"

. "$(atf_get_srcdir)/../common.subr"
# The users here reach the system castrad: castra looks for it only
# where CASTRA_HOME is unset, and common.subr sets it for a private one.
unset CASTRA_HOME

# The cases make users and run castrad as root.
require_root()
{
	[ "$(id -u)" = 0 ] ||
	    atf_skip "needs root: makes users and runs castrad as root"
	for p in useradd userdel runuser setpriv; do
		command -v $p >/dev/null ||
		    atf_skip "$p is not installed"
	done
	getent group castra >/dev/null ||
	    atf_skip "there is no castra group (make deps makes one)"
	getent passwd _castra >/dev/null ||
	    atf_skip "there is no _castra user (make deps makes one)"
	builddir=$(atf_config_get builddir)
	[ -f "$builddir/image/default-image.conf" ] ||
	    atf_fail "the default image is not built: run make image"
}

# The users' homes are below this directory: they must be able to walk
# down to it, as they would to /home.  Only search permission is added,
# to the directories Kyua made for the case.
open_path()
{
	d=$PWD
	while [ "$d" != / ]; do
		chmod o+x "$d"
		d=$(dirname "$d")
	done
}

# start_system [command ...]: start castrad as its unit does, under
# the command if one is given, and wait (bounded) for its socket.
start_system()
{
	bindir=$(atf_config_get bindir)
	SOCK=$PWD/sys/castrad.sock
	open_path
	"$@" "$bindir/castrad" -d -H "$PWD/sys" >castrad.log 2>&1 &
	echo $! >castrad.bg
	wait_for 10 '[ -S "$SOCK" ] && [ -f sys/castrad.pid ]' || {
		cat castrad.log >&2
		atf_fail "castrad did not make its socket in 10 s"
	}
}

# mkuser tag: a user in the castra group, home $PWD/<tag>, with a
# project <tag>/proj/castra.conf of one VM; prints nothing.
mkuser()
{
	name="cs$1$$"
	builddir=$(atf_config_get builddir)
	echo "$1 $name" >>users
	useradd -M -d "$PWD/$1" -s /bin/sh -G castra "$name" ||
	    atf_fail "useradd $name"
	mkdir -p "$1/proj"
	{
		echo "project \"$1\""
		echo "broker port $(free_port)"
		echo "include \"$builddir/image/default-image.conf\""
		echo 'vm "solo" {'
		echo '	image "castra-default"'
		echo '	memory 256M'
		echo '}'
	} >"$1/proj/castra.conf"
	chown -R "$name:" "$1"
	chmod 755 "$1" "$1/proj"
	mkas "$1"
}

# The broker port of that user's project.
broker_port()
{
	sed -n 's/^broker port \([0-9]*\)$/\1/p' "$1/proj/castra.conf"
}

# as tag command...: run a command as that user, in that user's
# environment, pointed at the system castrad by CASTRA_SOCKET.  It is
# a script, so that atf_check can run it too.
mkas()
{
	{
		echo '#!/bin/sh'
		echo "exec runuser -u cs$1$$ -- env -i" \
		    "PATH=$(atf_config_get bindir):$PATH HOME=$PWD/$1" \
		    "CASTRA_SOCKET=$SOCK \"\$@\""
	} >"as-$1"
	{
		echo '#!/bin/sh'
		echo "exec $PWD/as-$1 castra -c $PWD/$1/proj/castra.conf" \
		    "\"\$@\""
	} >"castra-$1"
	chmod 755 "as-$1" "castra-$1"
}

as()
{
	tag=$1
	shift
	"./as-$tag" "$@"
}

castra_as()
{
	tag=$1
	shift
	"./castra-$tag" "$@"
}

# A field of that user's `castra status --json`, by a Python
# expression on `s`.
status_as()
{
	castra_as "$1" status --json >"status-$1.json" ||
	    atf_fail "castra status --json as $1 failed"
	python3 -c "import json; s = json.load(open('status-$1.json')); \
print($2)"
}

check_status_as()
{
	got=$(status_as "$1" "$2")
	[ "$got" = "$3" ] || atf_fail "$1: $2 is $got, not $3"
}

# "mode owner group" of a path.
perms()
{
	stat -c '%a %U %G' "$1"
}

check_perms()
{
	got=$(perms "$1")
	[ "$got" = "$2" ] || atf_fail "$1 is $got, not $2"
}

# Bring every project down, stop castrad, remove the users.
stop_all()
{
	[ -f castrad.bg ] || return 0
	SOCK=$PWD/sys/castrad.sock
	PATH=$(atf_config_get bindir):$PATH
	[ -f users ] || touch users
	while read -r tag name; do
		[ -x "castra-$tag" ] && castra_as "$tag" down >/dev/null 2>&1
	done <users
	pid=$(cat castrad.bg)
	kill "$pid" 2>/dev/null
	wait_for 5 gone "$pid"
	# A guest a failed case left (a down refused for a planted link):
	# its QEMU runs in a state root under this directory.
	for q in $(pgrep -f '^/usr/bin/qemu-system-x86_64 '); do
		case "$(readlink "/proc/$q/cwd")" in
		"$PWD"/*)	kill -KILL "$q" ;;
		esac
	done
	while read -r tag name; do
		userdel -f "$name" 2>/dev/null
	done <users
	return 0
}

# stop_system signal: send castrad the signal and wait, at most 10 s,
# until it and its children have ended.  Guests keep running.
stop_system()
{
	_pid=$(cat castrad.bg)
	_procs="$_pid $(pgrep -P "$_pid" | tr '\n' ' ')"
	kill -"$1" "$_pid"
	for _p in $_procs; do
		wait_for 10 gone "$_p" || atf_fail "pid $_p did not end in 10 s"
	done
}

# restart_system [command ...]: start castrad again after stop_system,
# under the command if one is given (unshare...), and wait until it
# has adopted what it could: it logs its startup once it has.
restart_system()
{
	cat castrad.log >>castrad.old.log
	rm -f sys/castrad.sock
	start_system "$@"
	wait_for 10 grep -q "startup, home" castrad.log || {
		cat castrad.log >&2
		atf_fail "castrad did not finish starting in 10 s"
	}
}
