# Helpers shared by regress/faults and regress/load: a private
# CASTRA_HOME with a castrad of the test's own (castrad -d, its log in
# castrad.log), a project file on a free broker port, and checks that
# find QEMU processes by their -name and the state root in their cwd.
# Cleanup stops what the test case started, by pid, never by name.

. "$(atf_get_srcdir)/../project.subr"

# Poll for a condition (a shell command) up to $1 seconds.
wait_for()
{
	_end=$(($(date +%s) + $1))
	shift
	until eval "$@"; do
		[ "$(date +%s)" -ge "$_end" ] && return 1
		sleep 0.1
	done
	return 0
}

# Start castrad in the foreground of a background job, logging to
# castrad.log, and wait for its control socket.
start_castrad()
{
	rm -f home/castrad.sock
	"$bindir/castrad" -d -v -H "$CASTRA_HOME" >>castrad.log 2>&1 &
	echo $! >castrad.started
	wait_for 10 '[ -S home/castrad.sock ] && castrad_children_up' ||
	    atf_fail "castrad did not start: $(tail -5 castrad.log)"
}

castrad_pid()
{
	cat home/castrad.pid 2>/dev/null | tr -d '\n'
}

# The pid of castrad's child named $1, or nothing.
child_pid()
{
	_pp=$(castrad_pid)
	[ -n "$_pp" ] || return 0
	ps -o pid=,stat=,comm= --ppid "$_pp" 2>/dev/null |
	    awk -v n="$1" '$3 == n && $2 !~ /^[ZX]/ { print $1; exit }'
}

castrad_children_up()
{
	[ -n "$(child_pid castra-broker)" ] &&
	    [ -n "$(child_pid castra-vmm)" ] &&
	    [ -n "$(child_pid castra-imgd)" ]
}

# Kill castrad's child $1 with SIGKILL and wait until castrad has
# started another one.
kill_child()
{
	_kname=$1
	_old=$(child_pid "$_kname")
	[ -n "$_old" ] || atf_fail "$1 does not run"
	kill -9 "$_old"
	wait_for 20 '_new=$(child_pid "$_kname"); [ -n "$_new" ] &&
	    [ "$_new" != "$_old" ]' ||
	    atf_fail "castrad did not restart $1 (was $_old): \
$(tail -5 castrad.log)"
	grep -q "$1 (pid $_old) killed by signal 9" castrad.log ||
	    atf_fail "castrad.log does not say $1 was killed"
}

# The pids of live QEMU processes whose -name is $1 and cwd $2.
qemu_pids()
{
	python3 - "$1" "$2" <<'EOP'
import os, sys
for d in os.listdir("/proc"):
    if not d.isdigit():
        continue
    try:
        if os.readlink("/proc/%s/cwd" % d) != sys.argv[2]:
            continue
        with open("/proc/%s/stat" % d) as f:
            if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                continue
        with open("/proc/%s/cmdline" % d, "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        continue
    for i, a in enumerate(argv[:-1]):
        if a == b"-name" and argv[i + 1].decode() == sys.argv[1]:
            print(d)
            break
EOP
}

# Exactly $3 QEMUs for VM $1 in state root $2.
check_qemus()
{
	_n=$(qemu_pids "$1" "$2" | wc -l)
	[ "$_n" -eq "$3" ] ||
	    atf_fail "$_n QEMU processes for $1, not $3: $(qemu_pids "$1" "$2")"
}

# Wait up to $3 s for VM $1 of root $2 to have no QEMU.
wait_no_qemu()
{
	_qn=$1
	_qr=$2
	wait_for "$3" '[ -z "$(qemu_pids "$_qn" "$_qr")" ]' ||
	    atf_fail "QEMU of $1 still runs: $(qemu_pids "$1" "$2")"
}

# A field of `castra status --json`, by a Python expression on `s`.
status_field()
{
	$CASTRA status --json >status.json 2>status.err ||
	    atf_fail "castra status --json failed: $(cat status.err)"
	python3 -c "import json, sys; s = json.load(open('status.json')); \
print($1)"
}

check_status()
{
	_got=$(status_field "$1")
	[ "$_got" = "$2" ] || atf_fail "$1 is $_got, not $2"
}

wait_status()
{
	_sf=$1
	_sv=$3
	wait_for "$2" '[ "$(status_field "$_sf")" = "$_sv" ]' ||
	    atf_fail "$1 is $(status_field "$1"), not $3, after $2 s"
}

state_root()
{
	status_field "s['state_root']"
}

json_get()
{
	python3 -c "import json; print(json.load(open('$1')).get('$2'))"
}

# Every cached image still hashes to its name; no partial file is left.
check_cache()
{
	for _f in home/images/sha256/*; do
		[ -e "$_f" ] || continue
		case "$_f" in *.json) continue ;; esac
		[ "$(sha256sum "$_f" | cut -d' ' -f1)" = "${_f##*/}" ] ||
		    atf_fail "cached $_f no longer matches its name"
	done
}

# No overlay is left for a VM that does not run.
check_no_overlay()
{
	_ov="$2/overlays/$1.qcow2"
	wait_for 10 '[ ! -e "$_ov" ]' ||
	    atf_fail "the overlay of stopped VM $1 is left"
}

# Stop everything the test case started: the project, castrad, and any
# QEMU whose cwd is one of this test case's state roots.
stop_all()
{
	export CASTRA_HOME="$PWD/home"
	bindir=$(atf_config_get bindir)
	for _c in project*/castra.conf; do
		[ -f "$_c" ] || continue
		timeout 60 "$bindir/castra" -c "$_c" down >/dev/null 2>&1
	done
	_p=$(castrad_pid)
	[ -n "$_p" ] && kill "$_p" 2>/dev/null
	[ -f castrad.started ] && kill "$(cat castrad.started)" 2>/dev/null
	for _d in /proc/[0-9]*; do
		case "$(readlink "$_d/cwd" 2>/dev/null)" in
		"$PWD"/home/projects/*|"$PWD"/roots/*)
			kill -9 "${_d#/proc/}" 2>/dev/null ;;
		esac
	done
	return 0
}
