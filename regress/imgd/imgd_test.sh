#! /usr/bin/env atf-sh
#
# castra-imgd against a real HTTP server on 127.0.0.1 (httpd.py), driven
# through its imsg channel as castrad drives it (the driver program).
#

. "$(atf_get_srcdir)/../common.subr"

# A file of n KiB of random bytes in www/, and its digests.
make_file()
{
	head -c $(($2 * 1024)) /dev/urandom >"www/$1"
	sha=$(sha256sum "www/$1" | cut -d ' ' -f 1)
	sha512=$(sha512sum "www/$1" | cut -d ' ' -f 1)
	size=$(($2 * 1024))
}

# Run the driver with the commands on stdin; output to out, log to err.
drive()
{
	mkdir -p home
	"$(atf_config_get builddir)/regress/imgd/driver" -b 50 "$@" \
	    -H "$(pwd)/home" "$(atf_config_get bindir)/castra-imgd" \
	    >out 2>err
}

atf_test_case fetch_then_cached cleanup
fetch_then_cached_head()
{
	atf_set descr "a first request downloads; later ones make no request"
	atf_set timeout 60
}
fetch_then_cached_body()
{
	start_httpd
	make_file a.img 3000
	printf 'fetch 1 %s - %s %s/ok/a.img\n' $sha $size "$base" |
	    drive -p || atf_fail "driver: $(cat err)"
	atf_check -o match:"^ready 1 $sha 1 $size\$" cat out
	atf_check -o match:"^progress 1 $size $size $base/ok/a.img\$" cat out
	atf_check -o inline:"1\n" grep -c "^GET /ok/a.img " http.log
	atf_check -o match:'^-r--r--r--' ls -l home/images/sha256/$sha
	atf_check -o inline:"$sha\n" sh -c \
	    "sha256sum home/images/sha256/$sha | cut -d ' ' -f 1"
	atf_check -o match:"\"sha512\":\"$sha512\"" \
	    -o match:"\"size\":$size," -o match:'"format":"raw"' \
	    -o match:"\"urls\":\\[\"$base/ok/a.img\"\\]" \
	    cat home/images/sha256/$sha.json
	atf_check -o inline:"" ls home/images/partial

	# Again in a new imgd (hashes it once), and twice in one.
	printf 'fetch 1 %s - %s %s/ok/a.img\nwait\n' $sha $size "$base" >in
	printf 'fetch 2 %s - 0 %s/ok/a.img\n' $sha "$base" >>in
	drive <in ||
	    atf_fail "driver: $(cat err)"
	atf_check -o match:"^ready 1 $sha 0 $size\$" \
	    -o match:"^ready 2 $sha 0 $size\$" cat out
	atf_check -o inline:"1\n" grep -c "^GET /ok/a.img " http.log
}
fetch_then_cached_cleanup()
{
	stop_httpd
}

# A name that /etc/hosts gives 127.0.0.1, other than localhost (which
# libcurl knows by itself); empty if there is none.
hosts_name()
{
	awk '$1 == "127.0.0.1" {
		for (i = 2; i <= NF; i++)
			if ($i != "localhost") { print $i; exit }
	}' /etc/hosts
}

atf_test_case hostname cleanup
hostname_head()
{
	atf_set descr "a mirror named by host resolves in root's chroot"
	atf_set timeout 60
	atf_set require.user root
}
hostname_body()
{
	name=$(hosts_name)
	[ -n "$name" ] || atf_skip "/etc/hosts names 127.0.0.1 only localhost"
	start_httpd
	port=$(cat httpd.port)
	make_file a.img 100
	printf 'fetch 1 %s - 0 http://%s:%s/ok/a.img\n' $sha $name $port |
	    drive || atf_fail "driver: $(cat err)"
	atf_check -o match:"^ready 1 $sha 1 $size\$" cat out
	atf_check -o match:"^-r--r--r-- .* root .* hosts\$" \
	    ls -l home/images/etc
}
hostname_cleanup()
{
	stop_httpd
}

atf_test_case wrong_digest cleanup
wrong_digest_head()
{
	atf_set descr "bytes that do not match the digest are refused"
	atf_set timeout 60
}
wrong_digest_body()
{
	start_httpd
	make_file a.img 100
	good=$sha
	python3 -c "import sys; d=open('www/a.img','rb').read(); \
sys.stdout.buffer.write(bytes([d[0]^0xff])+d[1:])" >wrong.img
	bad=$(sha256sum wrong.img | cut -d ' ' -f 1)
	printf 'fetch 1 %s - %s %s/wrong/a.img\n' $good $size "$base" |
	    drive || atf_fail "driver: $(cat err)"
	m="sha256 mismatch: expected $good, got $bad"
	atf_check -o match:"^fail 1 $base/wrong/a.img: $m\$" cat out
	atf_check -o inline:"" \
	    find home/images/sha256 home/images/partial -type f

	# The next mirror has the right bytes.
	printf 'fetch 1 %s - %s %s/wrong/a.img %s/ok/a.img\n' $good $size \
	    "$base" "$base" | drive || atf_fail "driver: $(cat err)"
	atf_check -o match:"^ready 1 $good 1 $size\$" cat out
}
wrong_digest_cleanup()
{
	stop_httpd
}

atf_test_case size_mismatch cleanup
size_mismatch_head()
{
	atf_set descr "a server that sends more bytes than promised is cut off"
	atf_set timeout 60
}
size_mismatch_body()
{
	start_httpd
	make_file a.img 100
	printf 'fetch 1 %s - 1000 %s/ok/a.img\n' $sha "$base" | drive ||
	    atf_fail "driver: $(cat err)"
	atf_check -o match:"^fail 1 $base/ok/a.img: File too large" cat out
	printf 'fetch 1 %s - 999999 %s/ok/a.img\n' $sha "$base" | drive ||
	    atf_fail "driver: $(cat err)"
	m="size mismatch: expected 999999 bytes, got $size"
	atf_check -o match:"^fail 1 $base/ok/a.img: $m\$" cat out
	atf_check -o inline:"" ls home/images/sha256
}
size_mismatch_cleanup()
{
	stop_httpd
}

atf_test_case resume cleanup
resume_head()
{
	atf_set descr "a download cut off halfway resumes with a Range request"
	atf_set timeout 60
}
resume_body()
{
	start_httpd
	make_file a.img 2000
	half=$((size / 2))
	printf 'fetch 1 %s %s %s %s/half/a.img\n' $sha $sha512 $size "$base" |
	    drive || atf_fail "driver: $(cat err)"
	atf_check -o match:"^ready 1 $sha 1 $size\$" cat out
	atf_check -o inline:"GET /half/a.img range=-
GET /half/a.img range=bytes=$half-
" cat http.log
	atf_check -o match:"\"sha512\":\"$sha512\"" \
	    cat home/images/sha256/$sha.json
}
resume_cleanup()
{
	stop_httpd
}

atf_test_case resume_across_runs cleanup
resume_across_runs_head()
{
	atf_set descr "a partial file of an earlier run is hashed and resumed"
	atf_set timeout 60
}
resume_across_runs_body()
{
	start_httpd
	make_file a.img 1000
	# One attempt only: the half that arrived stays in partial/.
	printf 'fetch 1 %s - %s %s/half/a.img\n' $sha $size "$base" |
	    drive -r 1 || atf_fail "driver: $(cat err)"
	atf_check -o match:"^fail 1 $base/half/a.img: " cat out
	atf_check -o inline:"$((size / 2))\n" \
	    stat -c %s home/images/partial/$sha
	printf 'fetch 1 %s - %s %s/half/a.img\n' $sha $size "$base" |
	    drive || atf_fail "driver: $(cat err)"
	atf_check -o match:"^ready 1 $sha 1 $size\$" cat out
	atf_check -o match:"^GET /half/a.img range=bytes=$((size / 2))-\$" \
	    cat http.log
	atf_check -o inline:"" ls home/images/partial
}
resume_across_runs_cleanup()
{
	stop_httpd
}

atf_test_case stall cleanup
stall_head()
{
	atf_set descr "a server that stops sending times out, and is named"
	atf_set timeout 60
}
stall_body()
{
	start_httpd
	make_file a.img 1000
	printf 'fetch 1 %s - %s %s/stall/a.img\n' $sha $size "$base" |
	    drive -s 1 -r 2 || atf_fail "driver: $(cat err)"
	m="stalled: no data for 1 seconds"
	atf_check -o match:"^fail 1 $base/stall/a.img: $m" cat out
	atf_check -o inline:"2\n" grep -c "^GET /stall/a.img " http.log
}
stall_cleanup()
{
	stop_httpd
}

atf_test_case mirrors cleanup
mirrors_head()
{
	atf_set descr "an unreachable mirror is named and the next one used"
	atf_set timeout 60
}
mirrors_body()
{
	start_httpd
	make_file a.img 100
	# A port nobody listens on: bind one, note it, close it.
	dead=$(python3 -c "import socket; s=socket.socket(); \
s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
	printf 'fetch 1 %s - 0 http://127.0.0.1:%s/a.img %s\n' $sha $dead \
	    "$base/status/404/a.img" | drive -r 2 ||
	    atf_fail "driver: $(cat err)"
	m="$base/status/404/a.img: HTTP status 404"
	atf_check -o match:"^fail 1 http://127.0.0.1:$dead/a.img: .*; $m\$" \
	    cat out
	atf_check -o inline:"1\n" grep -c "^GET /status/404/a.img " http.log
	printf 'fetch 1 %s - 0 http://127.0.0.1:%s/a.img %s/ok/a.img\n' \
	    $sha $dead "$base" | drive -r 1 || atf_fail "driver: $(cat err)"
	atf_check -o match:"^ready 1 $sha 1 $size\$" cat out
	atf_check -o match:"http://127.0.0.1:$dead/a.img: " cat err
}
mirrors_cleanup()
{
	stop_httpd
}

atf_test_case concurrent cleanup
concurrent_head()
{
	atf_set descr "two requests for one digest at once make one download"
	atf_set timeout 60
}
concurrent_body()
{
	start_httpd
	make_file a.img 2000
	printf 'fetch 1 %s - 0 %s/slow/a.img\nfetch 2 %s - 0 %s/slow/a.img\n' \
	    $sha "$base" $sha "$base" | drive || atf_fail "driver: $(cat err)"
	atf_check -o match:"^ready 1 $sha 1 $size\$" \
	    -o match:"^ready 2 $sha 1 $size\$" cat out
	atf_check -o inline:"1\n" grep -c "^GET /slow/a.img " http.log

	# The second request's mirror serves both when the first's fails.
	make_file b.img 500
	printf 'fetch 1 %s - 0 %s/status/404/b.img\nfetch 2 %s - 0 %s\n' \
	    $sha "$base" $sha "$base/slow/b.img" | drive ||
	    atf_fail "driver: $(cat err)"
	atf_check -o match:"^ready 1 $sha 1 $size\$" \
	    -o match:"^ready 2 $sha 1 $size\$" cat out
	atf_check -o inline:"1\n" grep -c "^GET /slow/b.img " http.log
}
concurrent_cleanup()
{
	stop_httpd
}

atf_test_case corrupted cleanup
corrupted_head()
{
	atf_set descr "a cached image with one byte changed is fetched again"
	atf_set timeout 60
}
corrupted_body()
{
	start_httpd
	make_file a.img 1000
	printf 'fetch 1 %s - %s %s/ok/a.img\n' $sha $size "$base" | drive ||
	    atf_fail "driver: $(cat err)"
	atf_check -o match:"^ready 1 $sha 1 $size\$" cat out
	f=home/images/sha256/$sha
	chmod u+w $f
	printf 'X' | dd of=$f bs=1 seek=4096 conv=notrunc status=none
	chmod 444 $f
	atf_check -s exit:1 sh -c "sha256sum <$f | grep -q $sha"
	printf 'fetch 1 %s - %s %s/ok/a.img\n' $sha $size "$base" | drive ||
	    atf_fail "driver: $(cat err)"
	atf_check -o match:"^ready 1 $sha 1 $size\$" cat out
	atf_check -o match:"images/sha256/$sha: damaged" cat err
	atf_check -o inline:"2\n" grep -c "^GET /ok/a.img " http.log
	atf_check -o inline:"$sha\n" sh -c "sha256sum $f | cut -d ' ' -f 1"
}
corrupted_cleanup()
{
	stop_httpd
}

atf_test_case sha512_only cleanup
sha512_only_head()
{
	atf_set descr "an artifact known by sha512 alone is stored by sha256"
	atf_set timeout 60
}
sha512_only_body()
{
	start_httpd
	make_file a.img 500
	printf 'fetch 1 - %s 0 %s/ok/a.img\n' $sha512 "$base" | drive ||
	    atf_fail "driver: $(cat err)"
	atf_check -o match:"^ready 1 $sha 1 $size\$" cat out
	printf 'fetch 1 - %s 0 %s/ok/a.img\n' $sha512 "$base" | drive ||
	    atf_fail "driver: $(cat err)"
	atf_check -o match:"^ready 1 $sha 0 $size\$" cat out
	atf_check -o inline:"1\n" grep -c "^GET /ok/a.img " http.log
	# Neither digest: nothing to verify with, refused.
	printf 'fetch 1 - - 0 %s/ok/a.img\n' "$base" | drive ||
	    atf_fail "driver: $(cat err)"
	atf_check -o match:"^fail 1 image has no sha256 or sha512" cat out
}
sha512_only_cleanup()
{
	stop_httpd
}

atf_test_case import
import_head()
{
	atf_set descr "a local image passed as a descriptor is imported"
	atf_set timeout 60
}
import_body()
{
	mkdir -p www
	make_file local.img 1500
	printf 'import 1 %s/www/local.img\n' "$(pwd)" | drive -p ||
	    atf_fail "driver: $(cat err)"
	atf_check -o match:"^ready 1 $sha 1 $size\$" \
	    -o match:"^progress 1 $size $size local image\$" cat out
	atf_check -o inline:"$sha\n" sh -c \
	    "sha256sum home/images/sha256/$sha | cut -d ' ' -f 1"
	atf_check -o match:'"urls":\[\]' cat home/images/sha256/$sha.json
	# With its digest and already cached: no copy.
	printf 'import 1 %s/www/local.img %s\n' "$(pwd)" $sha | drive ||
	    atf_fail "driver: $(cat err)"
	atf_check -o match:"^ready 1 $sha 0 $size\$" cat out
	# Cached but damaged: copied again from the file.
	f=home/images/sha256/$sha
	printf 'X' | dd of=$f bs=1 seek=10 conv=notrunc status=none
	printf 'import 1 %s/www/local.img %s\n' "$(pwd)" $sha | drive ||
	    atf_fail "driver: $(cat err)"
	atf_check -o match:"^ready 1 $sha 1 $size\$" cat out
	atf_check -o inline:"$sha\n" sh -c "sha256sum <$f | cut -d ' ' -f 1"
	printf 'import 1 %s/www/local.img %064d\n' "$(pwd)" 0 | drive ||
	    atf_fail "driver: $(cat err)"
	m="sha256 mismatch: expected 0{64}, got $sha"
	atf_check -o match:"^fail 1 local image: $m\$" cat out
	atf_check -o inline:"" ls home/images/partial
	# Already cached, by content: a request by digest finds it.
	printf 'fetch 1 %s - 0\n' $sha | drive || atf_fail "driver: $(cat err)"
	atf_check -o match:"^ready 1 $sha 0 $size\$" cat out
	printf 'fetch 1 %064d - 0\n' 1 | drive || atf_fail "driver: $(cat err)"
	atf_check -o match:"^fail 1 image 0{63}1 is not cached and has no url" \
	    cat out
}

atf_test_case remove_prune cleanup
remove_prune_head()
{
	atf_set descr "rm and prune spare images that a running VM uses"
	atf_set timeout 60
}
remove_prune_body()
{
	start_httpd
	make_file a.img 100
	a=$sha
	make_file b.img 200
	b=$sha
	printf 'fetch 1 %s - 0 %s/ok/a.img\nfetch 2 %s - 0 %s/ok/b.img\n' \
	    $a "$base" $b "$base" | drive || atf_fail "driver: $(cat err)"
	# A download that nobody resumes goes with the images.
	head -c 100 /dev/zero >home/images/partial/$(printf '%064d' 7)
	printf 'hold %s\nprune 3 0 0\nwait\nrm 4 %s\nwait\nrelease %s
rm 5 %s\nrm 6 %s\n' $a $a $a $a $a | drive ||
	    atf_fail "driver: $(cat err)"
	atf_check -o inline:"" ls home/images/partial
	atf_check -o match:"^removed 3 1 204900 1 \$" \
	    -o match:"^removed 4 0 0 1 $a: a running VM uses it\$" \
	    -o match:"^removed 5 1 102400 0 \$" \
	    -o match:"^removed 6 0 0 0 $a: not in the cache\$" cat out
	atf_check -o inline:"" ls home/images/sha256
}
remove_prune_cleanup()
{
	stop_httpd
}

atf_test_case prune_size cleanup
prune_size_head()
{
	atf_set descr "prune --size removes the least recently used first"
	atf_set timeout 60
}
prune_size_body()
{
	start_httpd
	make_file a.img 100
	a=$sha
	make_file b.img 100
	b=$sha
	printf 'fetch 1 %s - 0 %s/ok/a.img\nfetch 2 %s - 0 %s/ok/b.img\n' \
	    $a "$base" $b "$base" | drive || atf_fail "driver: $(cat err)"
	# a was used long ago; b just now.
	sed -i -e 's/"last_used_at":[0-9]*/"last_used_at":1000/' \
	    -e 's/"fetched_at":[0-9]*/"fetched_at":1000/' \
	    home/images/sha256/$a.json
	printf 'prune 1 0 150000\n' | drive || atf_fail "driver: $(cat err)"
	atf_check -o match:"^removed 1 1 102400 0 \$" cat out
	atf_check -o inline:"$b\n$b.json\n" ls home/images/sha256
	printf 'prune 1 86400 0\n' | drive || atf_fail "driver: $(cat err)"
	atf_check -o match:"^removed 1 0 0 0 \$" cat out
}
prune_size_cleanup()
{
	stop_httpd
}

atf_test_case full_disk cleanup
full_disk_head()
{
	atf_set descr "a full disk leaves the cache as it was"
	atf_set timeout 60
	atf_set require.user root
}
full_disk_body()
{
	start_httpd
	make_file a.img 3000
	mkdir -p home/images
	mount -t tmpfs -o size=1m castra-imgd-test home/images ||
	    atf_skip "cannot mount a small tmpfs"
	touch mounted
	chmod 755 home/images
	printf 'fetch 1 %s - %s %s/ok/a.img\n' $sha $size "$base" | drive ||
	    atf_fail "driver: $(cat err)"
	m="images/partial: No space left on device"
	atf_check -o match:"^fail 1 $base/ok/a.img: $m\$" cat out
	atf_check -o inline:"" \
	    find home/images/sha256 home/images/partial -type f
}
full_disk_cleanup()
{
	stop_httpd
	[ -f mounted ] && umount home/images
	return 0
}

atf_test_case user_mode cleanup
user_mode_head()
{
	atf_set descr "run as an ordinary user, Landlock leaves imgd its cache"
	atf_set timeout 60
	atf_set require.user root
	atf_set require.progs setpriv
}
user_mode_body()
{
	start_httpd
	make_file a.img 300
	# A directory the user may reach; the case's own is root's alone.
	dir=$(mktemp -d /tmp/castra-imgd-user.XXXXXX)
	echo "$dir" >userdir
	chmod 755 "$dir"
	mkdir "$dir/home"
	chown nobody "$dir/home"
	cp www/a.img "$dir/a.img"
	chmod 644 "$dir/a.img"
	printf 'fetch 1 %s - 0 %s/ok/a.img\nwait\nimport 2 %s/a.img\n' \
	    $sha "$base" "$dir" | setpriv --reuid=nobody --regid=nogroup \
	    --clear-groups "$(atf_config_get builddir)/regress/imgd/driver" \
	    -H "$dir/home" "$(atf_config_get bindir)/castra-imgd" >out 2>err ||
	    atf_fail "driver: $(cat err)"
	atf_check -o match:"^ready 1 $sha 1 $size\$" \
	    -o match:"^ready 2 $sha 1 $size\$" cat out
	# A sanitizer build (sandbox relaxed) has no Landlock to log.
	[ "$(atf_config_get sandbox strict)" = strict ] &&
	    atf_check -o match:"Landlock ABI" cat err
	atf_check -o inline:"nobody\n" stat -c %U "$dir/home/images/sha256/$sha"
	# A mirror named in /etc/hosts: the resolver's thread and files.
	name=$(hosts_name)
	[ -n "$name" ] || return 0
	make_file b.img 100
	printf 'fetch 1 %s - 0 http://%s:%s/ok/b.img\n' $sha $name \
	    "$(cat httpd.port)" |
	    setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$(atf_config_get builddir)/regress/imgd/driver" -H "$dir/home" \
	    "$(atf_config_get bindir)/castra-imgd" >out 2>err ||
	    atf_fail "driver: $(cat err)"
	atf_check -o match:"^ready 1 $sha 1 $size\$" cat out
}
user_mode_cleanup()
{
	stop_httpd
	[ -f userdir ] && rm -rf "$(cat userdir)"
	return 0
}

atf_test_case hostile_request
hostile_request_head()
{
	atf_set descr "a file:// url from castrad makes imgd stop trusting it"
	atf_set timeout 30
}
hostile_request_body()
{
	printf 'fetch 1 %064d - 0 file:///etc/shadow\n' 1 | drive &&
	    atf_fail "imgd answered a file:// url"
	atf_check -o match:"unexpected message type" cat err
	# Upper-case hex, a short payload, a type imgd does not take.
	printf 'fetch 1 %s - 0 http://127.0.0.1:1/a\n' \
	    $(printf '%064d' 0 | tr 0 A) | drive &&
	    atf_fail "imgd took an upper-case digest"
	atf_check -o match:"unexpected message type" cat err
	printf 'raw %d 10\n' $(imsg_type IMSG_IMG_FETCH_REQUEST) | drive &&
	    atf_fail "imgd took a short request"
	atf_check -o match:"unexpected message type" cat err
	printf 'raw %d 0\n' $(imsg_type IMSG_CTL_UP_REQUEST) | drive &&
	    atf_fail "imgd took a control message"
	atf_check -o match:"unexpected message type" cat err
}

# The number of an imsg type: its place in the enum of lib/proto.h.
imsg_type()
{
	awk -v t="$1" '/^enum imsg_type/ { on = 1; n = 0; next }
	    on && /^}/ { exit }
	    on && /^[ \t]*IMSG_[A-Z_]*,/ {
		sub(/^[ \t]*/, ""); sub(/,.*/, "")
		if ($0 == t) { print n; exit }
		n++
	    }' "$(atf_config_get srcdir)/lib/proto.h"
}

atf_init_test_cases()
{
	atf_add_test_case fetch_then_cached
	atf_add_test_case hostname
	atf_add_test_case wrong_digest
	atf_add_test_case size_mismatch
	atf_add_test_case resume
	atf_add_test_case resume_across_runs
	atf_add_test_case stall
	atf_add_test_case mirrors
	atf_add_test_case concurrent
	atf_add_test_case corrupted
	atf_add_test_case sha512_only
	atf_add_test_case import
	atf_add_test_case remove_prune
	atf_add_test_case prune_size
	atf_add_test_case full_disk
	atf_add_test_case user_mode
	atf_add_test_case hostile_request
}
