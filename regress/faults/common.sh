# Helpers shared by regress/faults and regress/load, on top of
# project.subr: an image served over http, children of castrad killed,
# and checks that find QEMU processes by their -name and the state root
# in their cwd.  Cleanup stops what the test case started, by pid, never
# by name.

. "$(atf_get_srcdir)/../project.subr"

# Image "over-http" for the project: the default image with its disk
# fetched from URL $1.
http_image()
{
	sed -e 's/image "castra-default"/image "over-http"/' \
	    -e "s|url \"file://[^\"]*rootfs.qcow2\"|url \"$1\"|" \
	    "$builddir/image/default-image.conf" >project/http-image.conf
	grep -qF "url \"$1\"" project/http-image.conf ||
	    atf_fail "no url $1 in the image"
	echo 'include "http-image.conf"' >>project/castra.conf
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

# VM solo of state root $root comes up reachable with one QEMU, and
# goes down leaving no QEMU, no overlay and the image cache intact.
check_up_down()
{
	atf_check -o match:"solo: reachable" $CASTRA up --wait
	check_qemus solo "$root" 1
	atf_check -o match:"is down" $CASTRA down
	check_qemus solo "$root" 0
	check_no_overlay solo "$root"
	check_cache
}

# Kill castrad with SIGKILL, and wait until castra-vmm is no longer its
# child.
kill_castrad()
{
	kill -9 "$(castrad_pid)"
	wait_for 10 '[ -z "$(child_pid castra-vmm)" ]'
}

# Stop everything the test case started: the project, castrad, and any
# QEMU whose cwd is one of this test case's state roots.
stop_all()
{
	stop_projects
	for _d in /proc/[0-9]*; do
		case "$(readlink "$_d/cwd" 2>/dev/null)" in
		"$PWD"/home/projects/*|"$PWD"/roots/*)
			kill -9 "${_d#/proc/}" 2>/dev/null ;;
		esac
	done
	return 0
}
