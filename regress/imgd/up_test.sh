#! /usr/bin/env atf-sh
#
# The image cache as castra up uses it: the default guest image served
# over http:// by httpd.py on 127.0.0.1, a real guest booted under QEMU,
# the server's request log checked after up, down and up again.  Every
# path is under the case's own directory.

. "$(atf_get_srcdir)/../common.subr"

port_free()
{
	python3 -c 'import socket, sys; s = socket.socket(); \
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); \
s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}

# httpd.py serving the default image's three files; the project file
# names them by http:// URL with the digests make image wrote.
setup()
{
	bindir=$(atf_config_get bindir)
	builddir=$(atf_config_get builddir)
	conf="$builddir/image/default-image.conf"
	[ -f "$conf" ] ||
	    atf_fail "the default image is not built: run make image"
	mkdir -p www proj
	# Each file the image names by file:// URL, served by its name.
	for f in $(sed -n 's|.*url "file://\([^"]*\)".*|\1|p' "$conf"); do
		ln -s "$f" "www/${f##*/}"
	done
	for f in rootfs.qcow2 vmlinuz initrd.img; do
		[ -e "www/$f" ] || atf_fail "$conf names no $f"
	done
	start_httpd
	castra="$bindir/castra -c proj/castra.conf"
	bport=$(free_port)
	{
		echo "project \"upcache$$\""
		echo "broker port $bport"
		sed -e "s|file://[^\"]*/\([^\"/]*\)\"|$base/ok/\1\"|g" \
		    -e 's|castra-default|served|' "$conf"
		printf 'vm "solo" {\n\timage "served"\n\tmemory 256M\n}\n'
	} >proj/castra.conf
	grep -q "url \"file:" proj/castra.conf &&
	    atf_fail "a file:// URL is left in proj/castra.conf"
	return 0
}

teardown()
{
	[ -f proj/castra.conf ] && "$(atf_config_get bindir)/castra" \
	    -c proj/castra.conf down >/dev/null 2>&1
	castrad_stop
	stop_httpd
}

# How many requests the server has seen for file $1.
requests()
{
	grep -c "^GET /ok/$1 " http.log
}

atf_test_case second_up_no_request cleanup
second_up_no_request_head()
{
	atf_set descr "castra up fetches an http:// image once, shows its" \
	    "progress, a second up makes no request at all, and a" \
	    "corrupted cache file is fetched again"
	atf_set timeout 240
}
second_up_no_request_body()
{
	setup
	size=$(stat -L -c %s www/rootfs.qcow2)
	sha=$(sed -n 's/^[[:space:]]*sha256 "\(.*\)"/\1/p' proj/castra.conf)
	# Not a terminal: progress as plain lines with bytes and percent,
	# on either stream.
	atf_check -x "$castra up --wait >up1.out 2>&1"
	atf_check -o match:"^$base/ok/rootfs.qcow2: .* \(100%\)" \
	    -o match:"^image $(echo $sha | cut -c 1-12) ready\$" \
	    -o match:"solo: reachable" cat up1.out
	for f in rootfs.qcow2 vmlinuz initrd.img; do
		atf_check -o inline:"1\n" -x "grep -c '^GET /ok/$f ' http.log"
	done
	atf_check -o inline:"$size\n" stat -c %s home/images/sha256/$sha
	atf_check -o match:"solo: stopped" $castra down

	cp http.log http.log.first
	# castrad answers down before castra-broker has closed its copy
	# of the listener, so an up at once can find the port still held;
	# this case is about the cache, so wait for the port to be free.
	wait_for 10 "port_free $bport" || atf_fail "broker port $bport held"
	atf_check -x "$castra up --wait >up2.out 2>&1"
	atf_check -o match:"solo: reachable" -o not-match:"rootfs.qcow2: " \
	    cat up2.out
	atf_check -o file:http.log.first cat http.log
	atf_check -o match:"solo: stopped" $castra down

	# A cached image whose bytes changed is fetched again, not booted.
	wait_for 10 "port_free $bport" || atf_fail "broker port $bport held"
	python3 -c "import os, sys; fd = os.open(sys.argv[1], os.O_WRONLY); \
os.pwrite(fd, b'\xff' * 16, 4096); os.close(fd)" home/images/sha256/$sha ||
	    atf_fail "cannot corrupt the cached image"
	atf_check -x "$castra up --wait >up3.out 2>&1"
	atf_check -o match:"solo: reachable" cat up3.out
	atf_check -o inline:"2\n" -x "grep -c '^GET /ok/rootfs.qcow2 ' http.log"
	atf_check -o inline:"1\n" -x "grep -c '^GET /ok/vmlinuz ' http.log"
	atf_check -o inline:"$sha\n" sh -c \
	    "sha256sum <home/images/sha256/$sha | cut -d ' ' -f 1"
	atf_check -o match:"solo: stopped" $castra down
}
second_up_no_request_cleanup()
{
	teardown
}

# The backing file of VM $1's overlay.
backing()
{
	root=$($castra status --json | python3 -c \
	    'import json, sys; print(json.load(sys.stdin)["state_root"])')
	qemu-img info -U --output=json "$root/overlays/$1.qcow2" |
	    python3 -c 'import json, sys; \
print(json.load(sys.stdin)["backing-filename"])'
}

atf_test_case local_image cleanup
local_image_head()
{
	atf_set descr "a disk in castra.conf and up --image PATH are opened" \
	    "by castra, imported into the cache by content, and booted" \
	    "from there"
	atf_set timeout 120
}
local_image_body()
{
	castra="$(atf_config_get bindir)/castra -c proj/castra.conf"
	mkdir -p proj
	# Not bootable: the guest stays in its firmware, which is enough.
	atf_check -o ignore qemu-img create -f qcow2 base.qcow2 16M
	atf_check -o ignore qemu-img create -f qcow2 other.qcow2 20M
	sha=$(sha256sum <base.qcow2 | cut -d ' ' -f 1)
	other=$(sha256sum <other.qcow2 | cut -d ' ' -f 1)
	printf 'project "local%s"\nbroker port %s\n' $$ $(free_port) \
	    >proj/castra.conf
	printf 'vm "v" {\n\tdisk "../base.qcow2"\n\tmemory 128M\n}\n' \
	    >>proj/castra.conf

	atf_check -o match:"^image $(echo $sha | cut -c 1-12) ready\$" \
	    -o match:"^v: launched" -e ignore $castra up
	atf_check -o inline:"$sha\n" sh -c \
	    "sha256sum <home/images/sha256/$sha | cut -d ' ' -f 1"
	b=$(backing v)
	[ "$b" = "$(pwd)/home/images/sha256/$sha" ] ||
	    atf_fail "the overlay is backed by $b"
	atf_check -o match:"v: stopped" $castra down --graceful-wait 1

	atf_check -o match:"^image $(echo $other | cut -c 1-12) ready\$" \
	    -o match:"^v: launched" -e ignore \
	    $castra up --image "$(pwd)/other.qcow2"
	b=$(backing v)
	[ "$b" = "$(pwd)/home/images/sha256/$other" ] ||
	    atf_fail "the overlay is backed by $b"
	atf_check -o match:"v: stopped" $castra down --graceful-wait 1
	# Neither file was touched.
	atf_check -o inline:"$sha\n" sh -c \
	    "sha256sum <base.qcow2 | cut -d ' ' -f 1"
}
local_image_cleanup()
{
	teardown
}

atf_init_test_cases()
{
	atf_add_test_case second_up_no_request
	atf_add_test_case local_image
}
