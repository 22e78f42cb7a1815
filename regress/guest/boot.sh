#!/usr/bin/env atf-sh
#
# Boot the default guest image under QEMU TCG against a listener that
# plays the broker's side of the handshake, and check what castra-agent
# says and that the guest powers off when QEMU presses the power button.

. "$(atf_get_srcdir)/../common.subr"

image_dir() {
	echo "$(atf_config_get builddir)/image"
}

need_image() {
	img=$(image_dir)
	for f in vmlinuz initrd.img rootfs.qcow2; do
		[ -f "$img/$f" ] ||
		    atf_skip "no default image in $img (make image)"
	done
}

start_listener() {
	mkdir listener
	python3 "$(atf_config_get srcdir)/regress/guest/listener.py" \
	    listener &
	echo $! >listener.pid
	wait_for 10 test -s listener/port || atf_fail "listener did not start"
	port=$(cat listener/port)
}

# start_vm NAME [fw_cfg|cmdline]: boot with a fresh overlay.
start_vm() {
	img=$(image_dir)
	atf_check -o ignore qemu-img create -f qcow2 -b "$img/rootfs.qcow2" \
	    -F qcow2 overlay.qcow2
	token=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
	# A trailing newline, as a token file written by a shell would have.
	echo "$token" >token
	cmdline=$(sed -n 's/^[[:space:]]*cmdline "\(.*\)"$/\1/p' \
	    "$img/default-image.conf")
	if [ "$2" = cmdline ]; then
		cmdline="$cmdline castra.name=$1 castra.port=$port"
		cmdline="$cmdline castra.token=$token"
		fwcfg=
	else
		fwcfg="-fw_cfg name=opt/castra/name,string=$1
		    -fw_cfg name=opt/castra/port,string=$port
		    -fw_cfg name=opt/castra/token,file=$(pwd)/token"
	fi
	# shellcheck disable=SC2086
	qemu-system-x86_64 -M q35 -accel tcg -m 256 -smp 1 -nodefaults \
	    -display none -no-reboot \
	    -kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
	    -append "$cmdline" \
	    -drive file=overlay.qcow2,if=virtio,format=qcow2 \
	    -netdev user,id=n0 -device virtio-net-pci,netdev=n0 \
	    $fwcfg -serial file:serial.log \
	    -qmp unix:qmp.sock,server=on,wait=off >qemu.out 2>&1 &
	echo $! >qemu.pid
}

# The hello, then the power button: QEMU must exit on its own, soon.
check_vm() {
	wait_for 60 has_lines listener/hellos 1 ||
	    atf_fail "no hello within 60 s; serial: $(cat serial.log)"
	caps="bus-v1,bootstrap-v1"
	atf_check -o inline:"hello vm:$1 capabilities=$caps token=$token\n" \
	    head -n 1 listener/hellos
	wait_for 10 has_lines listener/frames 1 || atf_fail "no subscribe"
	atf_check -o inline:"{\"topic\":\"vm:$1\",\"type\":\"subscribe\"}\n" \
	    head -n 1 listener/frames

	pid=$(cat qemu.pid)
	atf_check -o match:return python3 \
	    "$(atf_config_get srcdir)/regress/guest/qmp.py" qmp.sock \
	    system_powerdown
	wait_for 5 gone "$pid" ||
	    atf_fail "QEMU still running 5 s after system_powerdown"
	wait "$pid" || atf_fail "QEMU exited with status $?"
	atf_check -o match:"granted, session test-1" cat serial.log
	atf_check -o match:"power button pressed" cat serial.log
}

stop_all() {
	for f in qemu.pid listener.pid; do
		[ -f $f ] && kill "$(cat $f)" 2>/dev/null
	done
	touch listener/stop 2>/dev/null
	return 0
}

atf_test_case fw_cfg cleanup
fw_cfg_head() {
	atf_set descr "a guest told by fw_cfg says hello and powers off"
	atf_set require.progs "qemu-system-x86_64 qemu-img python3"
	atf_set timeout 120
}
fw_cfg_body() {
	need_image
	start_listener
	start_vm regress-vm fw_cfg
	check_vm regress-vm
}
fw_cfg_cleanup() {
	stop_all
}

atf_test_case cmdline cleanup
cmdline_head() {
	atf_set descr "a guest told by the kernel command line says hello"
	atf_set require.progs "qemu-system-x86_64 qemu-img python3"
	atf_set timeout 120
}
cmdline_body() {
	need_image
	start_listener
	start_vm cmd-vm.0 cmdline
	check_vm cmd-vm.0
}
cmdline_cleanup() {
	stop_all
}

atf_init_test_cases() {
	atf_add_test_case fw_cfg
	atf_add_test_case cmdline
}
