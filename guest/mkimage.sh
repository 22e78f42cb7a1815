#!/bin/sh
#
# Build the castra default guest image from Debian packages alone: the
# Debian cloud kernel, busybox-static and castra-agent.  Nothing is
# mounted and nothing needs a network beyond the package registry.
#
# usage: mkimage.sh fetch DEBS
#	 mkimage.sh build OUT DEBS AGENT GUESTDIR
#	 mkimage.sh conf FILEDIR URLDIR
#
# fetch downloads the packages into DEBS (once; remove DEBS to refresh),
# build writes OUT/{vmlinuz,initrd.img,rootfs.qcow2,default-image.conf},
# conf prints a castra.conf(5) image block for the files in FILEDIR as
# found under URLDIR.

set -eu

# Drivers the cloud kernel builds as modules, dependencies first.
MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev
virtio_pci virtio_blk failover net_failover virtio_net qemu_fw_cfg
button evdev"
# quiet: every console line costs time under TCG.  The crypto self
# tests, the kdf108 self test, kprobe tracing and the Spectre
# mitigations cost a TCG guest about half a second together and buy a
# throwaway single-user VM nothing.
CMDLINE="console=ttyS0 root=/dev/vda quiet panic=-1 mitigations=off \
cryptomgr.notests initcall_blacklist=crypto_kdf108_init,init_kprobe_trace"
DISK_SIZE=1G
# Fixed so that the same inputs give the same file system.
FS_UUID=5c1e0d4b-6a7e-4c3a-9b1f-ca57ca57ca57
: "${SOURCE_DATE_EPOCH:=1700000000}"
export SOURCE_DATE_EPOCH

die() {
	echo "mkimage: $*" >&2
	exit 1
}

fetch() {
	debs=$1
	APT="apt-get -q"
	# apt's own user could not write here; root downloads itself.
	[ "$(id -u)" != 0 ] || APT="$APT -o APT::Sandbox::User=root"
	mkdir -p "$debs.tmp"
	cd "$debs.tmp"
	# The meta package names the kernel of the day as its dependency.
	# A machine that never ran apt-get update knows no packages yet.
	if ! $APT download linux-image-cloud-amd64 busybox-static; then
		[ "$(id -u)" = 0 ] ||
		    die "apt-get download failed; try apt-get update"
		$APT update
		$APT download linux-image-cloud-amd64 busybox-static
	fi
	kpkg=$(dpkg-deb -f linux-image-cloud-amd64_*.deb Depends |
	    tr ',' '\n' | sed -n 's/^ *\(linux-image-[0-9][^ ]*\).*/\1/p' |
	    head -n 1)
	[ -n "$kpkg" ] || die "linux-image-cloud-amd64 names no kernel"
	$APT download "$kpkg"
	cd - >/dev/null
	rm -rf "$debs"
	mv "$debs.tmp" "$debs"
}

# Every module's dependencies must come before it in MODULES.
check_order() {
	kdir=$1
	seen=
	for m in $MODULES; do
		ko=$(find "$kdir" -name "$m.ko")
		[ -n "$ko" ] || die "kernel has no module $m"
		deps=$(grep -a -o 'depends=[^[:cntrl:]]*' "$ko" | head -n 1 |
		    sed 's/^depends=//; s/,/ /g')
		for d in $deps; do
			case " $seen " in
			*" $d "*) ;;
			*) die "module $m needs $d, which comes later" ;;
			esac
		done
		seen="$seen $m"
	done
}

initramfs() {
	kdir=$1 bb=$2 src=$3 dir=$4
	mkdir -p "$dir/bin" "$dir/lib/modules" "$dir/dev" "$dir/proc" \
	    "$dir/sys" "$dir/newroot"
	cp "$bb" "$dir/bin/busybox"
	install -m 755 "$src/initramfs-init" "$dir/init"
	for m in $MODULES; do
		cp "$(find "$kdir" -name "$m.ko")" "$dir/lib/modules/"
	done
	echo $MODULES >"$dir/modules"
}

rootfs() {
	bb=$1 agent=$2 src=$3 dir=$4
	mkdir -p "$dir/bin" "$dir/sbin" "$dir/usr/bin" "$dir/usr/sbin" \
	    "$dir/etc" "$dir/dev" "$dir/proc" "$dir/sys" "$dir/tmp" \
	    "$dir/run" "$dir/root" "$dir/var/log"
	chmod 1777 "$dir/tmp"
	chmod 700 "$dir/root"
	cp "$bb" "$dir/bin/busybox"
	for a in $("$bb" --list-full); do
		case $a in
		bin/busybox|linuxrc|sbin/init) continue ;;
		esac
		up=$(echo "$a" | sed 's,[^/]*/,../,g; s,[^/]*$,,')
		ln -sf "${up}bin/busybox" "$dir/$a"
	done
	install -m 755 "$src/rootfs-init" "$dir/sbin/init"
	install -m 755 "$agent" "$dir/sbin/castra-agent"
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$dir/etc/passwd"
	printf 'root:x:0:\n' >"$dir/etc/group"
	printf '127.0.0.1\tlocalhost\n' >"$dir/etc/hosts"
	printf 'nameserver 10.0.2.3\n' >"$dir/etc/resolv.conf"
	printf 'castra\n' >"$dir/etc/hostname"
}

build() {
	out=$1 debs=$2 agent=$3 src=$4
	work=$out/work
	rm -rf "$work"
	mkdir -p "$work/kernel" "$work/busybox" "$work/out"

	kdeb=$(ls "$debs"/linux-image-[0-9]*.deb | sort -V | tail -n 1)
	dpkg -x "$kdeb" "$work/kernel"
	dpkg -x "$(ls "$debs"/busybox-static_*.deb | tail -n 1)" \
	    "$work/busybox"
	bb=$work/busybox/bin/busybox
	kdir=$(ls -d "$work"/kernel/lib/modules/*)
	check_order "$kdir"

	initramfs "$kdir" "$bb" "$src" "$work/initramfs"
	# Uncompressed: under TCG, unpacking costs more than loading.
	python3 "$src/mkcpio.py" "$work/initramfs" >"$work/out/initrd.img"

	rootfs "$bb" "$agent" "$src" "$work/rootfs"
	find "$work/rootfs" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
	# Inode tables written now, not by the guest's kernel at each boot.
	ext="root_owner=0:0,lazy_itable_init=0,lazy_journal_init=0"
	E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH mke2fs -q -F -t ext4 \
	    -d "$work/rootfs" -L castra-root -U "$FS_UUID" \
	    -E "$ext,hash_seed=$FS_UUID" \
	    "$work/rootfs.raw" "$DISK_SIZE" >/dev/null
	# mke2fs copies each file's ctime, which touch cannot set.
	(cd "$work/rootfs" && find . | sed 's,^\.,,; s,^$,/,') |
	    while read -r p; do
		echo "sif \"$p\" ctime @$SOURCE_DATE_EPOCH"
		echo "sif \"$p\" crtime @$SOURCE_DATE_EPOCH"
	    done >"$work/debugfs.cmds"
	E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH debugfs -w \
	    -f "$work/debugfs.cmds" "$work/rootfs.raw" >/dev/null 2>&1 ||
	    die "debugfs failed on $work/rootfs.raw"
	qemu-img convert -f raw -O qcow2 "$work/rootfs.raw" \
	    "$work/out/rootfs.qcow2"
	cp "$kdir/../../../boot"/vmlinuz-* "$work/out/vmlinuz"

	for f in vmlinuz initrd.img rootfs.qcow2; do
		mv -f "$work/out/$f" "$out/$f"
	done
	conf "$out" "$out" >"$out/default-image.conf.tmp"
	mv -f "$out/default-image.conf.tmp" "$out/default-image.conf"
	rm -rf "$work"
}

sha() {
	sha256sum "$1" | cut -d ' ' -f 1
}

conf() {
	dir=$(cd "$1" && pwd) url=$2
	case $url in
	/*) ;;
	*) url=$(cd "$url" && pwd) ;;
	esac
	printf 'image "castra-default" {\n'
	printf '\turl "file://%s/rootfs.qcow2"\n' "$url"
	printf '\tsha256 "%s"\n' "$(sha "$dir/rootfs.qcow2")"
	printf '\tsize %s\n' "$(stat -c %s "$dir/rootfs.qcow2")"
	printf '\tkernel { url "file://%s/vmlinuz" sha256 "%s" }\n' \
	    "$url" "$(sha "$dir/vmlinuz")"
	printf '\tinitrd { url "file://%s/initrd.img" sha256 "%s" }\n' \
	    "$url" "$(sha "$dir/initrd.img")"
	printf '\tcmdline "%s"\n}\n' "$CMDLINE"
}

[ $# -ge 1 ] || die "usage: mkimage.sh fetch|build|conf ..."
cmd=$1
shift
case $cmd in
fetch)	[ $# -eq 1 ] || die "usage: mkimage.sh fetch DEBS"; fetch "$@" ;;
build)	[ $# -eq 4 ] || die "usage: mkimage.sh build OUT DEBS AGENT GUESTDIR"
	build "$@" ;;
conf)	[ $# -eq 2 ] || die "usage: mkimage.sh conf FILEDIR URLDIR"
	conf "$@" ;;
*)	die "unknown command $cmd" ;;
esac
