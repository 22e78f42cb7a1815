#! /usr/bin/env atf-sh
#
# castra image end to end: castra, a private castrad and its castra-imgd,
# and httpd.py on 127.0.0.1.  Every path is under the case's directory.

. "$(atf_get_srcdir)/../common.subr"

setup()
{
	bindir=$(atf_config_get bindir)
	mkdir -p proj
	start_httpd
	castra="$bindir/castra -c proj/castra.conf"
	# A stalled or failed fetch fails at once rather than after retries.
	export CASTRA_IMGD_STALL_TIMEOUT=1 CASTRA_IMGD_RETRIES=1
	castrad_start
	head -c 1000000 /dev/urandom >www/disk.img
	head -c 100000 /dev/urandom >www/kernel.img
	disk=$(sha256sum <www/disk.img | cut -d ' ' -f 1)
	kernel=$(sha256sum <www/kernel.img | cut -d ' ' -f 1)
}

# A project whose image comes from url $1 with sha256 $2.
project()
{
	cat >proj/castra.conf <<EOF2
project "imgtest"
image "base" {
	url "$1"
	sha256 "$2"
	kernel { url "file://$(pwd)/www/kernel.img" }
}
vm "v" { image "base" }
EOF2
}

teardown()
{
	castrad_stop
	stop_httpd
}

atf_test_case pull_list_rm cleanup
pull_list_rm_head()
{
	atf_set descr "castra image pull, list, rm and prune through castrad"
	atf_set timeout 60
}
pull_list_rm_body()
{
	setup
	project "$base/ok/disk.img" $disk
	atf_check -o match:"^image $(echo $disk | cut -c 1-12) ready\$" \
	    -o match:"^image $(echo $kernel | cut -c 1-12) ready\$" \
	    -e ignore $castra image pull
	atf_check -o ignore -e ignore $castra image pull base
	atf_check -o inline:"1\n" grep -c "^GET /ok/disk.img " http.log
	short=$(echo $disk | cut -c 1-12)
	atf_check -o match:"^$short  .*  raw .* $base/ok/disk.img\$" \
	    -o match:"^$(echo $kernel | cut -c 1-12)  .*  local\$" \
	    $castra image list
	atf_check -o inline:"removed 1 image, 100000 bytes\n" \
	    $castra image rm $(echo $kernel | cut -c 1-10)
	atf_check -s exit:66 -e match:"no such image in the cache" \
	    $castra image rm $kernel
	atf_check -o inline:"removed 0 images, 0 bytes\n" \
	    $castra image prune --age 1
	atf_check -o inline:"removed 1 image, 1000000 bytes\n" \
	    $castra image prune
	atf_check -o inline:"" $castra image list
	atf_check -s exit:65 -e match:"no image of that name" \
	    $castra image pull nosuch
}
pull_list_rm_cleanup()
{
	teardown
}

atf_test_case import cleanup
import_head()
{
	atf_set descr "castra image import passes the file as a descriptor"
	atf_set timeout 60
}
import_body()
{
	setup
	chmod 600 www/disk.img
	atf_check -o inline:"image $(echo $disk | cut -c 1-12) ready\n$disk\n" \
	    -e match:"^local image: 976.6 KiB of 976.6 KiB \(100%\)" \
	    $castra image import www/disk.img
	atf_check -o inline:"$disk\n" sh -c \
	    "sha256sum <home/images/sha256/$disk | cut -d ' ' -f 1"
	atf_check -s exit:66 -e match:"nosuch: No such file" \
	    $castra image import nosuch
}
import_cleanup()
{
	teardown
}

atf_test_case failures cleanup
failures_head()
{
	atf_set descr "wrong bytes and a stalled server reach castra's user"
	atf_set timeout 60
}
failures_body()
{
	setup
	wrong=$(python3 -c "import sys,hashlib; \
d=open('www/disk.img','rb').read(); \
print(hashlib.sha256(bytes([d[0]^0xff])+d[1:]).hexdigest())")
	project "$base/wrong/disk.img" $disk
	atf_check -s exit:69 -o ignore \
	    -e match:"$base/wrong/disk.img: sha256 mismatch: expected $disk" \
	    -e match:"got $wrong" \
	    $castra image pull
	# castrad passed CASTRA_IMGD_STALL_TIMEOUT=1 down to imgd.
	project "$base/stall/disk.img" $disk
	atf_check -s exit:69 -o ignore \
	    -e match:"$base/stall/disk.img: stalled: no data for 1 seconds" \
	    $castra image pull
	atf_check -o inline:"" find home/images/sha256 -type f
}
failures_cleanup()
{
	teardown
}

atf_test_case concurrent_projects cleanup
concurrent_projects_head()
{
	atf_set descr "two projects pulling the same image at once cause" \
	    "one download"
	atf_set timeout 60
}
concurrent_projects_body()
{
	setup
	project "$base/slow/disk.img" $disk
	mkdir proj2
	sed 's/"imgtest"/"imgtest2"/' proj/castra.conf >proj2/castra.conf
	$castra image pull >pull1.out 2>pull1.err &
	p1=$!
	"$bindir/castra" -c proj2/castra.conf image pull >pull2.out \
	    2>pull2.err &
	p2=$!
	wait $p1 || atf_fail "the first pull failed: $(cat pull1.err)"
	wait $p2 || atf_fail "the second pull failed: $(cat pull2.err)"
	short=$(echo $disk | cut -c 1-12)
	atf_check -o match:"^image $short ready\$" cat pull1.out
	atf_check -o match:"^image $short ready\$" cat pull2.out
	atf_check -o inline:"1\n" grep -c "^GET /slow/disk.img " http.log
	# Both watched that one download: neither found it done already.
	atf_check -o match:"^$base/slow/disk.img: .*\(100%\)" cat pull1.err
	atf_check -o match:"^$base/slow/disk.img: .*\(100%\)" cat pull2.err
}
concurrent_projects_cleanup()
{
	teardown
}

atf_test_case terminal_bar cleanup
terminal_bar_head()
{
	atf_set descr "on a terminal, castra image pull draws a bar with" \
	    "bytes, rate and time left, redrawn in place"
	atf_set timeout 60
	atf_set require.progs script
}
terminal_bar_body()
{
	setup
	project "$base/slow/disk.img" $disk
	# script(1) runs castra on a pseudo-terminal and copies its output.
	atf_check -o save:tty.out -e ignore \
	    script -qec "$castra image pull base" /dev/null
	tr '\r' '\n' <tty.out >frames
	full="976.6 KiB/976.6 KiB +[0-9.]+ [KM]?i?B/s"
	atf_check -o match:"^disk.img +100% \[#+\] +$full" cat frames
	left="[0-9]+:[0-5][0-9] left"
	atf_check -o match:"^disk.img +[0-9]+% \[#* *\] .* $left" cat frames
	# Redrawn in place: no plain progress lines on a terminal.
	atf_check -s exit:1 grep -q "^$base/slow/disk.img: " frames
	atf_check -o inline:"1\n" grep -c "^GET /slow/disk.img " http.log
}
terminal_bar_cleanup()
{
	teardown
}

atf_init_test_cases()
{
	atf_add_test_case terminal_bar
	atf_add_test_case concurrent_projects
	atf_add_test_case pull_list_rm
	atf_add_test_case import
	atf_add_test_case failures
}
