#! /usr/bin/env atf-sh
# castra logs: tails from the end of each file, passes bytes through
# as they are, and follows across appends, rotation and truncation.

. "$(atf_get_srcdir)/common.sh"

# Wait (at most 10 s) until file $1 holds a line matching $2.
wait_line()
{
	wait_for 10 "grep -aq -- '$2' '$1' 2>/dev/null" ||
	    atf_fail "no \"$2\" in $1: $(cat "$1")"
}

atf_test_case tail cleanup
tail_head()
{
	atf_set descr "the last lines of each source, labelled"
}
tail_body()
{
	setup_env
	write_conf
	state_dirs
	seq 1 1000 | sed 's/^/line /' >"$SR/logs/broker.log"
	atf_check -s exit:0 -e empty \
	    -o inline:"[broker] line 998\n[broker] line 999\n[broker] line 1000\n" \
	    sh -c "cd proj && '$castra' logs -n 3 broker"
	# An unended last line is still a line.
	printf 'one\ntwo\nthree' >"$SR/logs/web-1.log"
	atf_check -s exit:0 -o inline:"[web-1] two\n[web-1] three\n" \
	    sh -c "cd proj && '$castra' logs -n 2 web-1"
	atf_check -s exit:0 -o empty sh -c "cd proj && '$castra' logs -n 0 broker"
	# Fewer lines than asked for: all of them.
	printf 'boot\n\nlogin:\n' >"$SR/logs/web-1-serial.log"
	atf_check -s exit:0 \
	    -o inline:"[broker] line 1000\n[web-1] three\n[web-1:serial] login:\n" \
	    sh -c "cd proj && '$castra' logs -n 1"
	atf_check -s exit:0 \
	    -o inline:"[web-1:serial] boot\n[web-1:serial] \n[web-1:serial] login:\n" \
	    sh -c "cd proj && '$castra' logs -n 50 web-1 | grep serial"
	atf_check -s exit:64 -e match:"nosuch: no such VM" \
	    sh -c "cd proj && '$castra' logs nosuch"
	atf_check -s exit:64 -e match:"-n x: invalid" \
	    sh -c "cd proj && '$castra' logs -n x"
}
tail_cleanup()
{
	:
}

atf_test_case bytes cleanup
bytes_head()
{
	atf_set descr "console bytes pass through unchanged; a 1 GiB log is not read"
}
bytes_body()
{
	setup_env
	write_conf
	state_dirs
	printf 'ok\n\377\376 \000 \033[2J raw\r\nend\n' \
	    >"$SR/logs/web-0-serial.log"
	printf '[web-0:serial] ok\n[web-0:serial] \377\376 \000 \033[2J raw\n[web-0:serial] end\n' \
	    >expected
	(cd proj && "$castra" logs web-0 >../got) || atf_fail "logs failed"
	atf_check cmp got expected
	# A sparse gigabyte before the lines: only the end is read.
	truncate -s 1G "$SR/logs/web-0.log"
	printf '\nlast but one\nlast\n' >>"$SR/logs/web-0.log"
	atf_check -s exit:0 -o inline:"[web-0] last but one\n[web-0] last\n" \
	    timeout 10 sh -c "cd proj && '$castra' logs -n 2 web-0 | grep -av serial"
}
bytes_cleanup()
{
	rm -f proj/st/logs/web-0.log
}

atf_test_case follow cleanup
follow_head()
{
	atf_set descr "-f follows appends, partial lines, rotation and truncation"
}
follow_body()
{
	setup_env
	write_conf
	state_dirs
	log="$SR/logs/web-0.log"
	echo "before" >"$log"
	(cd proj && exec "$castra" logs -f -n 1 web-0) >f.out 2>f.err &
	echo $! >follower
	wait_line f.out '^\[web-0\] before$'
	echo "appended" >>"$log"
	wait_line f.out '^\[web-0\] appended$'
	printf 'part' >>"$log"
	printf 'ial\n' >>"$log"
	wait_line f.out '^\[web-0\] partial$'
	# Rotated: what the old file still gets, then the new file.
	mv "$log" "$log.1"
	echo "late in the old" >>"$log.1"
	echo "first of the new" >"$log"
	wait_line f.out '^\[web-0\] first of the new$'
	wait_line f.out '^\[web-0\] late in the old$'
	# Truncated in place to less than was read.
	printf '%0200d\n' 0 >>"$log"
	wait_line f.out '^\[web-0\] 0000'
	: >"$log"
	echo "after truncation" >>"$log"
	wait_line f.out '^\[web-0\] after truncation$'
	# A serial log that appears later is picked up too.
	echo "console up" >"$SR/logs/web-0-serial.log"
	wait_line f.out '^\[web-0:serial\] console up$'
	atf_check -o inline:"1\n" grep -c "partial" f.out
	atf_check -s exit:1 grep -q "^\[web-0\] part$" f.out
	atf_check -o empty cat f.err
}
follow_cleanup()
{
	[ -f follower ] && kill "$(cat follower)" 2>/dev/null
	:
}

atf_init_test_cases()
{
	atf_add_test_case tail
	atf_add_test_case bytes
	atf_add_test_case follow
}
