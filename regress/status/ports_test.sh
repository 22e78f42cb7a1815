#! /usr/bin/env atf-sh
# castra ports: declared forwards per instance, and with --active
# whether each host port is bound now (probed with a real listener).

. "$(atf_get_srcdir)/common.sh"

# A free TCP port on 127.0.0.1, chosen by the kernel, whose successor
# is free too: the replicas web-0 and web-1 take both.
free_port_pair()
{
	python3 -c 'import socket
for i in range(100):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    t = socket.socket()
    try:
        t.bind(("127.0.0.1", p + 1))
    except OSError:
        continue
    print(p)
    break'
}

# Listen on 127.0.0.1:$1 until killed; waits until it is bound.
start_listener()
{
	python3 -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
open("listening", "w").close()
time.sleep(300)' "$1" </dev/null >/dev/null 2>&1 &
	echo $! >>sleepers
	wait_for 10 '[ -e listening ]' || atf_fail "the listener did not start"
}

atf_test_case declared cleanup
declared_head()
{
	atf_set descr "forwards per instance, the broker port, VMs without any"
}
declared_body()
{
	setup_env
	WEB_PORT=18080 write_conf
	atf_check -s exit:0 -e empty -o save:out sh -c "cd proj && '$castra' ports"
	atf_check -o match:"^Broker:  127.0.0.1:7170/tcp \(stopped\)\$" \
	    -o match:"^web-0  127.0.0.1:18080  80     tcp    declared\$" \
	    -o match:"^web-1  127.0.0.1:18081  80     tcp    declared\$" \
	    -o match:"^VMs without forwards: db\$" cat out
	atf_check -s exit:1 grep -q "^db " out
	# A collision is refused where the file is read, with its line.
	cat >>proj/castra.conf <<EOF
vm "cache" {
	disk "base.qcow2"
	forward tcp 18081 to 6379 bind "0.0.0.0"
}
EOF
	atf_check -s exit:65 -o empty \
	    -e match:"castra.conf:16: forward tcp 0.0.0.0:18081 of \"cache\" collides" \
	    sh -c "cd proj && '$castra' ports"
}
declared_cleanup()
{
	:
}

atf_test_case active cleanup
active_head()
{
	atf_set descr "--active tells bound ports of running and stopped VMs"
}
active_body()
{
	setup_env
	port=$(free_port_pair)
	WEB_PORT=$port write_conf
	state_dirs
	start_listener "$port"
	start_sleeper
	st=$(starttime "$bgpid")
	vm_record web-0 running "$bgpid" "$st"
	vm_record web-1 running "$bgpid" "$st"
	atf_check -s exit:0 -o save:out sh -c "cd proj && '$castra' ports --active"
	atf_check -o match:"^web-0  127.0.0.1:$port  +80 +tcp    active\$" \
	    -o match:"^web-1  127.0.0.1:$((port + 1))  +80 +tcp    inactive \(the VM runs but the port is not bound\)\$" \
	    cat out
	# Stopped, yet someone holds the port.
	vm_record web-0 stopped 0 1
	atf_check -s exit:0 -o save:out sh -c "cd proj && '$castra' ports --active"
	atf_check -o match:"^web-0  .* in-use \(the VM is stopped and another program holds the port\)\$" \
	    cat out
	# Without --active nothing is probed.
	atf_check -s exit:0 -o match:"^web-0  127.0.0.1:$port  +80 +tcp    declared\$" \
	    sh -c "cd proj && '$castra' ports"
	atf_check -s exit:64 -e match:"usage: castra ports" \
	    sh -c "cd proj && '$castra' ports extra"
}
active_cleanup()
{
	stop_sleepers
}

atf_init_test_cases()
{
	atf_add_test_case declared
	atf_add_test_case active
}
