#! /usr/bin/env atf-sh
#
# castrad from the systemd unit that `make install` writes, under a
# real systemd.  systemd boots as PID 1 of namespaces made for the case,
# in a throwaway overlay of the host's root (unitroot.sh builds it and
# says what keeps it off the host), and starts castrad.service.  Two
# users made in that root use the service as users do, through
# /var/lib/castra/castrad.sock, which castrad.socket holds, while it is
# restarted and killed under them.

. "$(atf_get_srcdir)/../common.subr"
# Only root inside the namespaces keeps a castrad, and the users reach
# it as castra does with CASTRA_HOME unset.
unset CASTRA_HOME

require_systemd()
{
	[ "$(id -u)" = 0 ] ||
	    atf_skip "needs root: boots systemd in namespaces of its own"
	for p in unshare nsenter pivot_root setpriv capsh chroot runuser \
	    useradd make python3 timeout; do
		command -v $p >/dev/null || atf_skip "$p is not installed"
	done
	[ -x /lib/systemd/systemd ] || atf_skip "systemd is not installed"
	grep -qw overlay /proc/filesystems ||
	    atf_skip "the kernel has no overlay file system loaded"
	CGROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
	[ -n "$CGROOT" ] || atf_skip "no cgroup2 hierarchy is mounted"
	[ -x "$(atf_config_get bindir)/castrad" ] ||
	    atf_fail "castrad is not built"
	[ -f "$(atf_config_get builddir)/image/default-image.conf" ] ||
	    atf_fail "the default image is not built: run make image"
}

# What the case checks the host against once the namespaces are gone:
# paths that only the root inside may have, as they were before.
host_paths="/var/lib/castra /lib/systemd/system/castrad.service
/etc/systemd/system/castra-regress.target /usr/local/sbin/castrad"

host_snapshot()
{
	for p in $host_paths; do
		if [ -e "$p" ]; then echo "$p is there"; else echo "$p is not"; fi
	done
}

# Boot systemd in its namespaces, in the background; sd.pid is its pid
# on the host.  Returns once the boot is over: every unit it started
# is up, or the case fails.
boot_systemd()
{
	host_snapshot >host.before
	echo canary >canary
	mkdir ns
	# A cgroup of the case's own, which becomes the root of the new
	# cgroup namespace: systemd's slices and scopes go below it.
	cg=$CGROOT$(sed -n 's/^0:://p' /proc/self/cgroup)
	cg=${cg%/}/castra-regress.$$
	mkdir "$cg" || atf_skip "cannot make a cgroup in $CGROOT"
	echo "$cg" >sd.cgroup
	sh -c 'echo $$ >"$1/cgroup.procs"' sh "$cg" ||
	    atf_skip "cannot move a process into $cg"
	# The shell joins that cgroup, then becomes unshare; unshare's
	# child becomes systemd, and dies with unshare (--kill-child).
	sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec unshare \
	    --mount --pid --fork --kill-child --uts --ipc --net --cgroup \
	    --propagation private sh "$@"' sh "$cg" \
	    "$(atf_config_get srcdir)/regress/system/unitroot.sh" "$PWD" \
	    "$(atf_config_get srcdir)" "$(atf_config_get builddir)" \
	    "$(atf_config_get sandbox strict)" </dev/null >sd.log 2>&1 &
	echo $! >sd.unshare
	if ! wait_for 120 systemd_started || [ ! -s sd.pid ]; then
		cat sd.log install.log >&2
		atf_fail "systemd did not start in its namespaces"
	fi
	{
		echo '#!/bin/sh'
		echo "exec nsenter -t $(cat sd.pid) -a -r -w \"\$@\""
	} >sd
	chmod 755 sd
	# --wait returns when the boot is over, running or degraded.
	wait_for 60 sh -c 'timeout 60 ./sd systemctl is-system-running --wait \
	    >sd.state 2>&1 || grep -qx degraded sd.state'
	if [ "$(cat sd.state)" != running ]; then
		./sd systemctl --failed --no-pager >&2
		./sd journalctl -b --no-pager >&2
		atf_fail "systemd booted $(cat sd.state)"
	fi
}

# Has unshare's child become systemd?  If unshare ended, it never will.
systemd_started()
{
	kill -0 "$(cat sd.unshare)" 2>/dev/null || return 0
	pid=$(pgrep -P "$(cat sd.unshare)") || return 1
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = systemd ] || return 1
	echo "$pid" >sd.pid
}

# Kill systemd and everything in its pid namespace, by killing unshare
# (its child is killed with it), then remove the cgroups.
kill_systemd()
{
	if [ -f sd.unshare ]; then
		u=$(cat sd.unshare)
		case "$(tr '\0' ' ' <"/proc/$u/cmdline" 2>/dev/null)" in
		unshare*)	kill -KILL "$u" ;;
		esac
		wait "$u" 2>/dev/null
		rm -f sd.unshare
	fi
	if [ -f sd.pid ]; then
		wait_for 10 sh -c "! kill -0 $(cat sd.pid) 2>/dev/null"
	fi
	if [ -f sd.cgroup ] && [ -d "$(cat sd.cgroup)" ]; then
		wait_for 10 sh -c "find '$(cat sd.cgroup)' -depth -type d \
		    -exec rmdir {} + 2>/dev/null; [ ! -d '$(cat sd.cgroup)' ]"
	fi
}

# The castrad that systemd started, once it serves: its pid in $main.
# The unit is active once castrad has said READY=1, and castrad writes
# its pid file before it does; the socket is systemd's, and there all
# along.
castrad_up()
{
	main=$(./sd systemctl show -p MainPID --value castrad.service)
	[ "$main" -gt 0 ] 2>/dev/null &&
	    [ "$(./sd systemctl show -p ActiveState --value \
	    castrad.service)" = active ] &&
	    [ "$(./sd cat /var/lib/castra/castrad.pid 2>/dev/null)" = \
	    "$main" ] && ./sd test -S /var/lib/castra/castrad.sock
}

# Has systemd seen castrad $1 go?
castrad_gone()
{
	[ "$(./sd systemctl show -p MainPID --value castrad.service)" != \
	    "$1" ]
}

# What the castrad that runs now ($main) logged matches $1.
castrad_logged()
{
	./sd journalctl -u castrad.service -o cat _PID="$main" |
	    grep -q -- "$1"
}

wait_castrad()
{
	wait_for 20 castrad_up || {
		./sd systemctl status --no-pager castrad.service >&2
		atf_fail "castrad.service does not listen"
	}
}

# A field of /proc/PID/status inside.
proc_status()
{
	./sd sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"
}

# Capabilities as a sorted list of lower-case names.
caps_of_mask()
{
	capsh --decode="$1" | sed 's/.*=//' | tr ',' '\n' | LC_ALL=C sort |
	    tr '\n' ' '
}

# CapabilityBoundingSet= of the installed unit, as caps_of_mask says it.
caps_of_unit()
{
	./sd cat /lib/systemd/system/castrad.service | python3 -c '
import sys
text = sys.stdin.read().replace("\\\n", " ")
for line in text.splitlines():
	if line.startswith("CapabilityBoundingSet="):
		caps = line.split("=", 1)[1].split()
print(" ".join(sorted(c.lower() for c in caps)), end=" ")'
}

children_confined()
{
	./sd ps -o user=,comm= --ppid "$main" | awk '{ print $1, $2 }' |
	    LC_ALL=C sort >children
	cmp -s children children.want
}

# castrad runs as its unit says, and its children as _castra.
check_confined()
{
	want=$(caps_of_unit)
	[ -n "$want" ] || atf_fail "no CapabilityBoundingSet= in the unit"
	# Each child drops to _castra and execs its program: wait for all.
	printf '%s\n' "_castra castra-broker" "_castra castra-imgd" \
	    "_castra castra-vmm" >children.want
	wait_for 10 children_confined ||
	    atf_fail "castrad's children are $(cat children)"
	for p in $main $(./sd pgrep -P "$main"); do
		[ "$(proc_status "$p" NoNewPrivs)" = 1 ] ||
		    atf_fail "process $p has new privileges allowed"
		[ "$(proc_status "$p" Seccomp)" = 2 ] ||
		    atf_fail "process $p has no seccomp filter"
		got=$(caps_of_mask "$(proc_status "$p" CapBnd)")
		[ "$got" = "$want" ] ||
		    atf_fail "process $p may have $got, not $want"
	done
	# ProtectSystem=strict: only the state directory is writable.
	atf_check -s not-exit:0 -e match:"Read-only file system" \
	    ./sd nsenter -t "$main" -m touch /usr/local/castra-probe
	atf_check ./sd nsenter -t "$main" -m sh -c \
	    'touch /var/lib/castra/probe && rm /var/lib/castra/probe'
}

# mkuser tag: a user of the castra group, made in the root inside,
# with a project of one VM, ~/proj/castra.conf, on the default image
# that `make install` put in /usr/local/share/castra.
mkuser()
{
	name=cu$1$$
	atf_check -o ignore -e ignore ./sd useradd -m -s /bin/sh \
	    -G castra "$name"
	{
		echo '#!/bin/sh'
		echo "exec $PWD/sd runuser -u $name -- env -i" \
		    "PATH=/usr/local/bin:/usr/bin:/bin HOME=/home/$name \"\$@\""
	} >"as-$1"
	{
		echo '#!/bin/sh'
		echo "exec $PWD/as-$1 castra -c /home/$name/proj/castra.conf" \
		    "\"\$@\""
	} >"castra-$1"
	chmod 755 "as-$1" "castra-$1"
	port=$(./sd python3 -c 'import socket; s = socket.socket(); \
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat >"conf-$1" <<EOF
project "$1"
broker port $port
include "/usr/local/share/castra/image/default-image.conf"
vm "solo" {
	image "castra-default"
	memory 256M
}
EOF
	"./as-$1" sh -c 'mkdir ~/proj && cat >~/proj/castra.conf' \
	    <"conf-$1" || atf_fail "$name cannot write its project"
}

# A field of that user's `castra status --json`, by a Python expression
# on `s`.
status_as()
{
	"./castra-$1" status --json >"status-$1.json" ||
	    atf_fail "castra status --json as $1 failed"
	python3 -c "import json; s = json.load(open('status-$1.json')); \
print($2)"
}

check_status_as()
{
	got=$(status_as "$1" "$2")
	[ "$got" = "$3" ] || atf_fail "$1: $2 is $got, not $3"
}

# Has the castrad that runs now ($main) adopted the project of user
# $1: does its broker listen again, in another process than $3, and has
# its guest said hello since $2 (ms since the epoch)?  The broker
# records the hello in handshakes/ of the state root: only a state root
# that castrad may write, in a user's home too, shows it.
adopted()
{
	[ "$(status_as "$1" "s['broker'].get('state'), \
s['broker'].get('pid') != $3")" = "listening True" ] || return 1
	root=$(status_as "$1" "s['state_root']")
	hello=$(./sd cat "$root/handshakes/solo.json" |
	    python3 -c 'import json, sys; \
print(json.load(sys.stdin)["timestamp_ms"])') || return 1
	[ "$hello" -gt "$2" ] &&
	    castrad_logged "\.${root##*/}: adopted running VMs"
}

# castrad has started again ($old was its pid): both users' guests run
# on, the same QEMU processes, and are adopted with writable state
# roots.  $1: when castrad went away, in ms since the epoch.
check_adopted()
{
	wait_castrad
	[ "$main" != "$old" ] || atf_fail "castrad did not start again"
	check_confined
	for t in a b; do
		eval q=\$qemu_$t
		./sd kill -0 "$q" || atf_fail "QEMU $q ended with castrad"
		check_status_as $t "s['vms'][0]['state'], s['vms'][0]['pid']" \
		    "running $q"
		eval broker=\$broker_$t
		wait_for 30 adopted $t "$1" "$broker" || {
			./sd journalctl -u castrad.service --no-pager >&2
			atf_fail "$t's project was not adopted, or its state" \
			    "root is not writable: $(cat status-$t.json)"
		}
		check_status_as $t "s['reachable']" True
		eval broker_$t=$(status_as $t "s['broker']['pid']")
	done
}

# b's `castra up` while castrad is away: it reaches the castrad that
# systemd starts next, through the socket systemd holds, rather than
# a private castrad of b's own.
up_b_meanwhile()
{
	./castra-b up >up-b.out 2>&1 || {
		cat up-b.out >&2
		atf_fail "b: castra up while castrad restarted failed"
	}
	atf_check -o match:"is already up" cat up-b.out
	atf_check -s exit:1 ./sd pgrep -u "cub$$" castrad
	./sd test -e "/home/cub$$/.castra/castrad.sock" &&
	    atf_fail "b's castra started a castrad of its own"
	return 0
}

atf_test_case unit cleanup
unit_head()
{
	atf_set "descr" "castrad.service under a real systemd serves two" \
	    "users, confined as its unit says; a restart or a crash of" \
	    "castrad keeps their guests running and adopted"
	atf_set "timeout" "600"
}
unit_body()
{
	require_systemd
	boot_systemd
	atf_check -o inline:"enabled\nenabled\n" ./sd systemctl is-enabled \
	    castrad.service castrad.socket
	atf_check -o ignore -e ignore ./sd systemd-analyze verify \
	    /lib/systemd/system/castrad.service \
	    /lib/systemd/system/castrad.socket
	# Type=notify: once start returns, castrad serves the socket.
	atf_check ./sd systemctl start castrad.service
	atf_check -o inline:"active\nactive\n" ./sd systemctl is-active \
	    castrad.service castrad.socket
	castrad_up || atf_fail "castrad.service started, castrad does not serve"
	check_confined
	atf_check -o inline:"660 root castra\n" ./sd stat -c '%a %U %G' \
	    /var/lib/castra/castrad.sock

	# a keeps its state in its home, as castra does by default; b in
	# a directory the administrator made for it where castrad.service
	# adopts guests when it starts again: home/projects, under the
	# project's own id.
	mkuser a
	mkuser b
	idb=$(basename "$(status_as b "s['state_root']")")
	atf_check ./sd install -d -o "cub$$" -g "cub$$" -m 700 \
	    "/var/lib/castra/projects/$idb"
	echo "state \"/var/lib/castra/projects/$idb\"" |
	    ./as-b sh -c 'cat >>~/proj/castra.conf'

	for t in a b; do
		"./castra-$t" up --wait >up.out 2>&1 || {
			cat up.out >&2
			./sd journalctl -u castrad.service --no-pager >&2
			atf_fail "$t: castra up --wait failed"
		}
		atf_check -o match:"is up" cat up.out
		check_status_as $t "s['reachable']" True
		check_status_as $t "s['vms'][0]['state']" running
		check_status_as $t "s['config']" \
		    "/home/cu$t$$/proj/castra.conf"
	done
	check_status_as a "s['state_root'].startswith('/home/cua$$/.castra/')" \
	    True
	check_status_as b "s['state_root']" "/var/lib/castra/projects/$idb"
	qemu_a=$(status_as a "s['vms'][0]['pid']")
	qemu_b=$(status_as b "s['vms'][0]['pid']")
	broker_b=$(status_as b "s['broker']['pid']")
	for q in $qemu_a $qemu_b; do
		atf_check -o inline:"_castra\n" ./sd ps -o user= -p "$q"
	done

	# Restarted, castrad.service stops castrad and its children only
	# (KillMode=process): the guests run on.  b's castra up, once the
	# old castrad has gone, waits for the new one.
	old=$main
	broker_a=$(status_as a "s['broker']['pid']")
	restart=$(date +%s%3N)
	# systemctl warns that the socket may start castrad meanwhile:
	# that is the point.
	./sd systemctl restart castrad.service 2>restart.err &
	wait_for 20 castrad_gone "$old" || atf_fail "castrad does not stop"
	up_b_meanwhile
	wait $! || atf_fail "systemctl restart castrad.service failed"
	check_adopted "$restart"

	# Killed, castrad is started again by Restart=on-failure, 2 s
	# later: b's castra up in between waits in castrad.socket's queue.
	old=$main
	killed=$(date +%s%3N)
	./sd kill -KILL "$main"
	wait_for 10 castrad_gone "$old" ||
	    atf_fail "systemd did not notice that castrad was killed"
	up_b_meanwhile
	check_adopted "$killed"

	# A state root in the store that no record names any more (here
	# the record is removed while castrad is away) is let go of:
	# closed, and removed from the store, so that the castrad after
	# is not handed it again.  a's guest runs on, not adopted, until
	# a's down takes it over.
	key=$(./sd id -u "cua$$").$(basename "$(status_as a "s['state_root']")")
	./sd test -f "/var/lib/castra/adopt/$key" ||
	    atf_fail "castrad keeps no record of a's project"
	old=$main
	./sd kill -KILL "$main"
	wait_for 10 castrad_gone "$old" ||
	    atf_fail "systemd did not notice that castrad was killed"
	atf_check ./sd rm "/var/lib/castra/adopt/$key"
	wait_castrad
	wait_for 10 castrad_logged "^castrad: $key: a descriptor kept by systemd" ||
	    atf_fail "castrad did not let go of a's stored state root"
	castrad_logged "$key: adopted" && atf_fail "a's project was adopted"
	old=$main
	atf_check -e ignore ./sd systemctl restart castrad.service
	wait_castrad
	wait_for 10 castrad_logged "^castrad: startup" ||
	    atf_fail "castrad did not start again"
	castrad_logged "kept by systemd" &&
	    atf_fail "systemd still kept a's state root"

	# Each user's down stops that user's guest and discards its overlay.
	for t in a b; do
		root=$(status_as $t "s['state_root']")
		./sd test -f "$root/overlays/solo.qcow2" ||
		    atf_fail "$t: there is no overlay to discard"
		atf_check -o match:"is down" -o ignore ./castra-$t down
		check_status_as $t "s['vms'][0]['state']" stopped
		./sd test -e "$root/overlays/solo.qcow2" &&
		    atf_fail "$t: down left the overlay"
	done
	for q in $qemu_a $qemu_b; do
		./sd kill -0 "$q" 2>/dev/null && atf_fail "QEMU $q still runs"
	done

	# The socket too: else a connection would start castrad again.
	atf_check ./sd systemctl stop castrad.socket castrad.service
	atf_check -s exit:3 -o inline:"inactive\ninactive\n" \
	    ./sd systemctl is-active castrad.service castrad.socket
	./sd ps -eo comm= | grep -Ex \
	    'castrad|castra-broker|castra-vmm|castra-imgd|qemu-system-x86' \
	    >left
	atf_check -o empty cat left

	# Gone with the namespaces: processes, mounts, cgroups, and every
	# file the root inside had.
	nspid=$(readlink "/proc/$(cat sd.pid)/ns/pid")
	kill_systemd
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$nspid" ] &&
		    atf_fail "process ${p#/proc/} outlived its namespace"
	done
	awk -v d="$PWD/" 'index($5, d) == 1 { print $5 }' \
	    /proc/self/mountinfo >mounts
	atf_check -o empty cat mounts
	[ -d "$(cat sd.cgroup)" ] && atf_fail "$(cat sd.cgroup) is left"
	host_snapshot >host.after
	atf_check -o empty diff host.before host.after
	atf_check -o inline:"canary\n" cat canary
	for t in a b; do
		getent passwd "cu$t$$" && atf_fail "cu$t$$ is a user of the host"
	done
	return 0
}
unit_cleanup()
{
	kill_systemd
}

atf_init_test_cases()
{
	atf_add_test_case unit
}
