#! /usr/bin/env atf-sh
#
# castra-vmm against real guests: the default image booted under QEMU
# TCG, with regress/vm/driver standing in for castrad (and for the
# broker's side of the guest's hello).  Every case keeps its files in
# its own directory and kills whatever QEMU it leaves behind.

. "$(atf_get_srcdir)/../common.subr"

drv()
{
	"$(atf_config_get builddir)/regress/vm/driver" \
	    -b "$(atf_config_get bindir)" -d "$PWD" -i "$imagedir" "$@" \
	    >out 2>err
	rc=$?
	cat out
	return $rc
}

setup()
{
	imagedir="$(atf_config_get builddir)/image"
	for f in rootfs.qcow2 vmlinuz initrd.img; do
		[ -r "$imagedir/$f" ] ||
		    atf_skip "the default image is not built (make image)"
	done
	[ -x "$(atf_config_get bindir)/castra-vmm" ] ||
	    atf_fail "castra-vmm is not built"
	# Run as root, castra-vmm and QEMU become _castra, which must reach
	# this directory: Kyua makes its work directories 0700.
	if [ "$(id -u)" = 0 ]; then
		d=$PWD
		while [ "$d" != / ]; do
			case $(stat -c %A "$d") in
			*x|*t)	;;
			*)	chmod o+x "$d" ;;
			esac
			d=$(dirname "$d")
		done
	fi
}

# The value of a top-level key of a VM record.
field()
{
	python3 -c 'import json, sys
v = json.load(open(sys.argv[1])).get(sys.argv[2])
print("" if v is None else v)' "sr/vms/$1.json" "$2"
}

check_state()
{
	st=$(field "$1" state)
	[ "$st" = "$2" ] || atf_fail "$1 is in state '$st', not $2"
}

# Kill any QEMU whose working directory is this case's state root.
kill_leftovers()
{
	here=$(readlink -f sr)
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/cwd" 2>/dev/null)" = "$here" ] || continue
		grep -q qemu-system "$p/cmdline" 2>/dev/null &&
		    kill -9 "${p#/proc/}" 2>/dev/null
	done
	[ -f sleep.pid ] && kill "$(cat sleep.pid)" 2>/dev/null
	return 0
}

atf_test_case cooperative cleanup
cooperative_head()
{
	atf_set "descr" "a guest boots on a fresh overlay, says hello," \
	    "and powers off on the ACPI button without a signal"
	atf_set "timeout" "180"
}
cooperative_body()
{
	setup
	port=$(free_port)
	drv start a cpus=2 fwd=tcp:$port:22 \
	    sh 'test -s sr/overlays/a.qcow2' \
	    sh 'test "$(stat -c %a sr/run/a.token)" = 600' \
	    sh "ss -Hltn | grep -q '127.0.0.1:$port '" \
	    hello a 90 \
	    sh "python3 -c 'import socket
s = socket.create_connection((\"127.0.0.1\", $port), timeout=5)
try: s.recv(1)
except OSError: pass'" \
	    sh 'grep -q "\"state\":\"running\"" sr/vms/a.json' \
	    sh 'grep -q first_handshake_at_ms sr/vms/a.json' \
	    stop a 20 5 5 ||
	    atf_fail "the driver failed: $(cat err)"

	atf_check -o match:'^started a pid=[0-9]+ accel=(tcg|kvm)$' cat out
	# The probe's verdict, as castra-vmm wrote it, is what the VM got.
	accel=$(sed -n 's/^started a .*accel=//p' out)
	atf_check -o match:"\"accel\":\"$accel\"" cat home/accel.json
	[ "$(field a accel)" = "$accel" ] || atf_fail "the record's accel"
	atf_check -o match:'^hello a token=ok at=' cat out
	atf_check -o match:'cooperative-succeeded' cat out
	atf_check -o match:'shutdown-complete .* text=graceful' cat out
	atf_check -s exit:1 grep escalated out

	# The guest booted, and its writes went to the overlay alone.
	atf_check -o ignore grep 'castra-agent' sr/logs/a-serial.log
	disk=$(ls home/images/sha256 | while read h; do
	    [ "$(sha256sum < "home/images/sha256/$h" | cut -c1-64)" = "$h" ] ||
	    echo "changed $h"; done)
	[ -z "$disk" ] || atf_fail "a cached image changed: $disk"
	qemu-img create -q -f qcow2 fresh.qcow2 64M
	fresh=$(($(stat -c %b fresh.qcow2) * 512))
	used=$(sed -n 's/.*overlay-discarded ms=0 bytes=\([0-9]*\).*/\1/p' out)
	[ "$used" -gt "$fresh" ] ||
	    atf_fail "the overlay held $used bytes, no more than a fresh one"

	# Stopped: the record says so, nothing of the run is left.
	check_state a stopped
	atf_check test ! -e sr/overlays/a.qcow2
	atf_check test ! -e sr/run/a.qmp
	atf_check test ! -e sr/run/a.token
	# The token never travelled on the command line.
	token=$(sed -n 's/^token a //p' out)
	[ ${#token} -eq 64 ] || atf_fail "no token was sent"
	atf_check -s exit:1 grep -q "$token" sr/vms/a.json
	atf_check -o match:'hostfwd=tcp:127.0.0.1:'$port'-:22' \
	    cat sr/vms/a.json
}
cooperative_cleanup()
{
	kill_leftovers
}

atf_test_case escalation cleanup
escalation_head()
{
	atf_set "descr" "a guest that ignores the power button is stopped" \
	    "with SIGTERM after the graceful wait"
	atf_set "timeout" "180"
}
escalation_body()
{
	setup
	# No initramfs: the kernel finds no root, panics and hangs, deaf
	# to the button.
	drv start b noinitrd 'cmdline=console=ttyS0 panic=0' \
	    wait-serial b 'Kernel panic' 90 \
	    stop b 2 10 5 ||
	    atf_fail "the driver failed: $(cat err)"
	atf_check -o match:'cooperative-attempted ms=2000' cat out
	atf_check -o match:'cooperative-timed-out' cat out
	atf_check -o match:'shutdown-escalated ms=10000 .*text=SIGTERM' cat out
	atf_check -s exit:1 grep SIGKILL out
	atf_check -o match:'shutdown-complete .*text=forced' cat out
	check_state b stopped
	atf_check test ! -e sr/overlays/b.qcow2
}
escalation_cleanup()
{
	kill_leftovers
}

atf_test_case early_stop cleanup
early_stop_head()
{
	atf_set "descr" "a stop that comes while the guest still boots is" \
	    "cooperative all the same: the button is pressed again"
	atf_set "timeout" "180"
}
early_stop_body()
{
	setup
	drv start h stop h 60 5 5 ||
	    atf_fail "the driver failed: $(cat err)"
	# The first press came long before the guest listened.
	atf_check -o match:'cooperative-succeeded' cat out
	atf_check -o match:'shutdown-complete .*text=graceful' cat out
	atf_check -s exit:1 grep escalated out
	atf_check test ! -e sr/overlays/h.qcow2
}
early_stop_cleanup()
{
	kill_leftovers
}

atf_test_case exit_noticed cleanup
exit_noticed_head()
{
	atf_set "descr" "a QEMU killed from outside is noticed and its" \
	    "overlay removed"
	atf_set "timeout" "120"
}
exit_noticed_body()
{
	setup
	drv start c kill c 9 wait-exit c 30 ||
	    atf_fail "the driver failed: $(cat err)"
	atf_check -o match:'^exited c pid=' cat out
	check_state c stopped
	atf_check test ! -e sr/overlays/c.qcow2
	atf_check test ! -e sr/run/c.qmp
}
exit_noticed_cleanup()
{
	kill_leftovers
}

atf_test_case adopt cleanup
adopt_head()
{
	atf_set "descr" "VMs outlive castra-vmm; a new one adopts the" \
	    "living and cleans up after the dead"
	atf_set "timeout" "240"
}
adopt_body()
{
	setup
	drv start d start e hello d 90 restart \
	    sh 'kill -9 $(python3 -c "import json
print(json.load(open(\"sr/vms/e.json\"))[\"pid\"])")' \
	    start d adopt d adopt e stop d 20 5 5 ||
	    atf_fail "the driver failed: $(cat err)"
	pid=$(sed -n 's/^started d pid=\([0-9]*\).*/\1/p' out | head -1)
	atf_check -o match:"^started d pid=$pid accel=" \
	    sed -n '/^> adopt/,$p' out
	atf_check -o match:'^exited e pid=' cat out
	# A start of a VM whose QEMU runs unwatched would pull its overlay
	# from under it: refused.
	atf_check -o match:"^failed d its QEMU \(pid $pid\) still runs" cat out
	atf_check test ! -e sr/overlays/e.qcow2
	check_state e stopped
	atf_check -o match:'shutdown-complete .*text=graceful' cat out
	atf_check test ! -e sr/overlays/d.qcow2
}
adopt_cleanup()
{
	kill_leftovers
}

atf_test_case stale_record cleanup
stale_record_head()
{
	atf_set "descr" "a record whose pid now belongs to another process" \
	    "never gets that process signalled"
	atf_set "timeout" "60"
}
stale_record_body()
{
	setup
	# The driver's layout: the state root below the home, sr names it.
	mkdir -p home/projects/regress/vms home/projects/regress/overlays
	ln -s "$PWD/home/projects/regress" sr
	sleep 300 &
	echo $! > sleep.pid
	pid=$!
	start=$(sed 's/.*) //' /proc/$pid/stat | cut -d' ' -f20)
	# One record with the right start time but QEMU's command line,
	# one with sleep's command line but another start time.
	for v in s1 s2; do
		st=$start argv='["/usr/bin/qemu-system-x86_64","-name","'$v'"]'
		[ $v = s2 ] && st=$((start + 1)) argv='["sleep","300"]'
		cat > sr/vms/$v.json <<EOF
{"name":"$v","pid":$pid,"start_time":$st,"argv":$argv,"accel":"tcg",
"overlay":"overlays/$v.qcow2","qmp":"run/$v.qmp","cpus":1,
"memory_mib":256,"forwards":[],"state":"running","up_at_ms":1,
"launched_at_ms":1}
EOF
		echo junk > sr/overlays/$v.qcow2
	done
	drv adopt s1 adopt s2 stop s1 1 1 1 ||
	    atf_fail "the driver failed: $(cat err)"
	atf_check -o match:'^exited s1 pid=' cat out
	atf_check -o match:'^exited s2 pid=' cat out
	atf_check -o match:'stop-response s1 shutdown-complete .*text=not running' \
	    cat out
	atf_check kill -0 $pid
	atf_check test ! -e sr/overlays/s1.qcow2
	atf_check test ! -e sr/overlays/s2.qcow2
	check_state s1 stopped
}
stale_record_cleanup()
{
	kill_leftovers
}

atf_test_case died_at_once cleanup
died_at_once_head()
{
	atf_set "descr" "a QEMU that cannot start is reported with its" \
	    "own words, and leaves no overlay"
	atf_set "timeout" "120"
}
died_at_once_body()
{
	setup
	port=$(free_port)
	drv start f fwd=tcp:$port:22 start g fwd=tcp:$port:22 \
	    stop f 0 5 5 ||
	    atf_fail "the driver failed: $(cat err)"
	atf_check -o match:'^started f ' cat out
	atf_check -o match:'^failed g QEMU exited before it was ready' cat out
	atf_check -o match:'host forwarding' cat out
	check_state g error
	atf_check test ! -e sr/overlays/g.qcow2
	# No graceful wait: straight to SIGTERM.
	atf_check -o match:'cooperative-attempted ms=0' cat out
	atf_check -o match:'text=SIGTERM' cat out
}
died_at_once_cleanup()
{
	kill_leftovers
}

atf_test_case unprivileged cleanup
unprivileged_head()
{
	atf_set "descr" "run by an ordinary user, under Landlock, a guest" \
	    "still reaches the host, and an adopted QEMU can still be stopped"
	atf_set "require.user" "root"
	atf_set "timeout" "180"
}
unprivileged_body()
{
	setup
	command -v setpriv >/dev/null || atf_skip "setpriv is not installed"
	chown nobody .
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$(atf_config_get builddir)/regress/vm/driver" \
	    -b "$(atf_config_get bindir)" -d "$PWD" -i "$imagedir" \
	    start u hello u 90 restart adopt u stop u 20 5 5 >out 2>err ||
	    atf_fail "the driver failed: $(cat out err)"
	if [ "$(atf_config_get sandbox strict)" = strict ]; then
		atf_check -o match:'Landlock ABI [0-9]+' cat err
	fi
	atf_check -o match:'^hello u token=ok' cat out
	atf_check -o match:'shutdown-complete .*text=graceful' cat out
	[ "$(stat -c %U sr/vms/u.json)" = nobody ] ||
	    atf_fail "the record is not the user's"
}
unprivileged_cleanup()
{
	kill_leftovers
}

atf_init_test_cases()
{
	atf_add_test_case cooperative
	atf_add_test_case escalation
	atf_add_test_case early_stop
	atf_add_test_case exit_noticed
	atf_add_test_case adopt
	atf_add_test_case stale_record
	atf_add_test_case died_at_once
	atf_add_test_case unprivileged
}
