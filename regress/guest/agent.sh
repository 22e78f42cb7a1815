#!/usr/bin/env atf-sh
#
# castra-agent run on the host against a listener on 127.0.0.1 that
# plays the broker: retries while no broker listens, after a denial and
# after a server that is not a broker.

. "$(atf_get_srcdir)/../common.subr"

granted_twice() {
	[ "$(grep -c "hello granted" agent.err)" -eq 2 ]
}

agent_path() {
	agent=$(atf_config_get builddir)/guest/castra-agent
	[ -x "$agent" ] || atf_fail "no $agent; run make"
}

# start_listener PORT MODE
start_listener() {
	mkdir -p listener
	python3 "$(atf_config_get srcdir)/regress/guest/listener.py" \
	    listener "$1" "$2" &
	echo $! >listener.pid
	wait_for 10 test -s listener/port || atf_fail "listener did not start"
}

# start_agent PORT [flags]: run castra-agent in the background.
start_agent() {
	port=$1
	shift
	"$agent" -H 127.0.0.1 -p "$port" -n host-test -t 0a0b "$@" \
	    2>agent.err &
	echo $! >agent.pid
}

stop_all() {
	for f in agent.pid listener.pid; do
		[ -f $f ] && kill "$(cat $f)" 2>/dev/null
	done
	touch listener/stop 2>/dev/null
	return 0
}

atf_test_case retry cleanup
retry_head() {
	atf_set descr "the agent keeps dialling until a broker listens"
	atf_set require.progs "python3"
	atf_set timeout 30
}
retry_body() {
	agent_path
	port=$(free_port)
	start_agent "$port" -1
	pid=$(cat agent.pid)
	wait_for 5 "grep -q retrying agent.err" ||
	    atf_fail "no failed attempt logged: $(cat agent.err)"
	start_listener "$port" grant
	wait_for 10 gone "$pid" || atf_fail "agent still running"
	wait "$pid" || atf_fail "agent exited with status $?"
	hello="hello vm:host-test capabilities=bus-v1,bootstrap-v1 token=0a0b"
	atf_check -o inline:"$hello\n" cat listener/hellos
	atf_check -o match:"hello granted, session test-1" cat agent.err
}
retry_cleanup() {
	stop_all
}

atf_test_case denied cleanup
denied_head() {
	atf_set descr "a denied agent says so once and tries again later"
	atf_set require.progs "python3"
	atf_set timeout 30
}
denied_body() {
	agent_path
	start_listener 0 deny
	start_agent "$(cat listener/port)"
	wait_for 10 has_lines listener/hellos 3 ||
	    atf_fail "no third hello after two denials"
	atf_check -o inline:"1\n" grep -c "denied: unauthorized" agent.err
	kill -0 "$(cat agent.pid)" || atf_fail "agent gave up"
}
denied_cleanup() {
	stop_all
}

atf_test_case foreign cleanup
foreign_head() {
	atf_set descr "the agent says nothing to a server that is no broker"
	atf_set require.progs "python3"
	atf_set timeout 30
}
foreign_body() {
	agent_path
	start_listener 0 foreign
	start_agent "$(cat listener/port)"
	wait_for 10 has_lines listener/conns 3 ||
	    atf_fail "the agent did not try again"
	atf_check -o match:"not a castra broker" cat agent.err
	atf_check -s exit:1 test -e listener/hellos
}
foreign_cleanup() {
	stop_all
}

atf_test_case rehello cleanup
rehello_head() {
	atf_set descr "the agent says hello again and subscribes each time"
	atf_set require.progs "python3"
	atf_set timeout 30
}
rehello_body() {
	agent_path
	start_listener 0 grant
	start_agent "$(cat listener/port)" -r 1
	wait_for 10 has_lines listener/frames 3 ||
	    atf_fail "fewer than three sessions in 10 s"
	atf_check -o inline:"3\n" sh -c 'head -n 3 listener/hellos | uniq -c |
	    awk "{ print \$1 }"'
	atf_check -o inline:"3\n" grep -c \
	    '^{"topic":"vm:host-test","type":"subscribe"}$' \
	    listener/frames
	# The first session is logged, the routine ones are not.
	atf_check -o inline:"1\n" grep -c "hello granted" agent.err
}
rehello_cleanup() {
	stop_all
}

atf_test_case restart cleanup
restart_head() {
	atf_set descr "the agent finds a broker that came back on its port"
	atf_set require.progs "python3"
	atf_set timeout 30
}
restart_body() {
	agent_path
	start_listener 0 grant
	port=$(cat listener/port)
	start_agent "$port"
	wait_for 10 has_lines listener/frames 1 || atf_fail "no session"

	kill "$(cat listener.pid)"
	wait "$(cat listener.pid)" || true
	wait_for 10 'grep -q "closed by broker" agent.err' ||
	    atf_fail "the agent did not notice: $(cat agent.err)"
	mv listener listener.old
	start_listener "$port" grant
	wait_for 10 has_lines listener/hellos 1 ||
	    atf_fail "no hello to the new broker"
	# Granted again after a failure: logged again.
	wait_for 10 granted_twice || atf_fail "$(cat agent.err)"
}
restart_cleanup() {
	stop_all
	touch listener.old/stop 2>/dev/null
	return 0
}

atf_test_case usage
usage_head() {
	atf_set descr "bad options are refused before anything is sent"
}
usage_body() {
	agent_path
	for args in "-n bad/name" "-p 0" "-p 65536" "-t nothex" "-x" \
	    "-r 0" "-r 41" "-r 1x" "extra"; do
		# shellcheck disable=SC2086
		atf_check -s exit:1 -e match:"^usage:" "$agent" $args
	done
}

atf_init_test_cases() {
	atf_add_test_case retry
	atf_add_test_case denied
	atf_add_test_case foreign
	atf_add_test_case rehello
	atf_add_test_case restart
	atf_add_test_case usage
}
