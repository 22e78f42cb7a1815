#!/bin/sh
#
# The root that unit_test boots systemd in.  This script runs as PID 1
# of new pid, mount, UTS, IPC, network and cgroup namespaces, builds
# the root, and then becomes systemd.
#
# The root is an overlay of the host's / whose upper layer is a tmpfs
# mounted in this mount namespace only: whatever systemd, `make install`
# or the test writes there is gone with the namespace, and the host's
# files, /tmp included, are never written.  /proc/sys and /sys are
# read-only, /dev holds a few device nodes and nothing else, and the
# cgroup tree is the subtree unit_test made for it.  Castra is
# installed in the root by `make install` and castrad.service enabled
# there; systemd boots castra-regress.target, which is castrad.service
# and what it needs.  Every unit those pull in, but the journal, is
# masked, and so is every generator: nothing that sets sysctls, loads
# modules, seeds the random pool, sets the clock, runs udev, cleans
# /tmp or starts a getty, a network or a database.
#
# usage: unitroot.sh dir srcdir builddir [strict|relaxed]
#	dir holds ns/, where the root is built, and install.log;
#	relaxed is a sanitizer build's sandbox.

set -eu
dir=$1
srcdir=$2
builddir=$3
sandbox=${4:-strict}
ns=$dir/ns
root=$ns/root

mount -t tmpfs -o mode=0755,size=1g castra-regress "$ns"
mkdir "$ns/upper" "$ns/work" "$root"
mount -t overlay castra-regress \
    -o "lowerdir=/,upperdir=$ns/upper,workdir=$ns/work" "$root"

# What the kernel shares with the host is read-only, or not there.
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
for p in sys sysrq-trigger kcore kmsg; do
	[ -e "$root/proc/$p" ] || continue
	mount --bind "$root/proc/$p" "$root/proc/$p"
	mount -o remount,bind,ro "$root/proc/$p"
done
mount --bind /sys "$root/sys"
mount -o remount,bind,ro,nosuid,nodev,noexec "$root/sys"
# The cgroup namespace's root is the subtree unit_test made.
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 "$root/sys/fs/cgroup"
mount -t tmpfs -o mode=0755,nosuid,size=1m castra-dev "$root/dev"
for d in null zero full random urandom tty kvm; do
	[ -c "/dev/$d" ] || continue
	touch "$root/dev/$d"
	mount --bind "/dev/$d" "$root/dev/$d"
done
mkdir "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts \
    "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$root/run"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/tmp"

# The units.  A unit linked to /dev/null is masked; so is a generator.
etc=$root/etc/systemd/system
mkdir -p "$etc" "$root/etc/systemd/system-generators"
for g in /lib/systemd/system-generators/* \
    /usr/lib/systemd/system-generators/*; do
	[ -e "$g" ] || continue
	ln -sf /dev/null "$root/etc/systemd/system-generators/${g##*/}"
done
for t in sysinit local-fs local-fs-pre swap cryptsetup; do
	for u in /etc/systemd/system/$t.target.wants/* \
	    /lib/systemd/system/$t.target.wants/* \
	    /usr/lib/systemd/system/$t.target.wants/*; do
		[ -e "$u" ] || [ -L "$u" ] || continue
		case ${u##*/} in
		systemd-journald.service|systemd-journal-flush.service|*.target)
			;;
		*)	ln -sf /dev/null "$etc/${u##*/}" ;;
		esac
	done
done
# Not wanted by those targets here, but what must never run on the
# host's behalf wherever some other target pulls it in.
for u in systemd-sysctl.service systemd-modules-load.service \
    systemd-udevd.service systemd-udevd-control.socket \
    systemd-udevd-kernel.socket systemd-udev-trigger.service \
    systemd-binfmt.service systemd-random-seed.service \
    systemd-timesyncd.service systemd-tmpfiles-setup.service \
    systemd-tmpfiles-clean.timer systemd-journald-audit.socket \
    systemd-logind.service getty@.service serial-getty@.service \
    console-getty.service networking.service systemd-networkd.service; do
	ln -sf /dev/null "$etc/$u"
done
cat >"$etc/castra-regress.target" <<EOF
[Unit]
Description=castrad.service and what it needs
Requires=castrad.service
After=castrad.service
AllowIsolate=yes
EOF

# Castra, installed as an administrator would: `make install` (which
# also makes the _castra user and the castra group where they are
# missing) and systemctl enable.  -o programs installs the build under
# test rather than rebuilding it.
chroot "$root" make -C "$srcdir" B="$builddir" PREFIX=/usr/local \
    -o programs install >"$dir/install.log" 2>&1
chroot "$root" systemctl enable castrad.service >>"$dir/install.log" 2>&1
# LeakSanitizer stops the world with ptrace(2) at exit, which the
# unit's system call filter refuses, and then fails castrad: a
# sanitizer build under the unit runs without it.  The rest of the
# suite checks for leaks.
if [ "$sandbox" = relaxed ]; then
	mkdir -p "$etc/castrad.service.d"
	printf '[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0\n' \
	    >"$etc/castrad.service.d/sanitizer.conf"
fi

cd "$root"
mkdir .oldroot
pivot_root . .oldroot
umount -l /.oldroot
rmdir /.oldroot
# systemd runs as in a container; its bounding set leaves out what
# reaches the host's kernel beyond these namespaces (modules, the
# clock, raw I/O, accounting, the kernel log, the audit rules).
drop=-sys_module,-sys_time,-sys_rawio,-sys_pacct,-syslog,-wake_alarm
drop=$drop,-block_suspend,-mac_admin,-mac_override,-sys_tty_config
drop=$drop,-audit_control,-audit_read,-linux_immutable
exec env -i container=castra-regress setpriv --bounding-set "$drop" \
    /lib/systemd/systemd --unit=castra-regress.target
