#! /usr/bin/env atf-sh
#
# castra-broker(8) against real TCP clients; broker.py does the work
# with the driver playing castrad.  See broker.py for each case.
#

run_case()
{
	python3 "$(atf_config_get srcdir)/regress/broker/broker.py" "$1" \
	    "$(atf_config_get builddir)" "$(atf_config_get bindir)" ||
	    atf_fail "$1 failed, see stderr"
}

atf_test_case granted
granted_head()
{
	atf_set "descr" "A granted hello: reply, records, castrad's event"
	atf_set "require.progs" "python3"
	atf_set "timeout" "60"
}
granted_body()
{
	run_case granted
}

atf_test_case denied
denied_head()
{
	atf_set "descr" "Denied hellos are recorded and leave no <vm>.json"
	atf_set "require.progs" "python3"
	atf_set "timeout" "60"
}
denied_body()
{
	run_case denied
}

atf_test_case protocol_error
protocol_error_head()
{
	atf_set "descr" "Malformed hellos are denied with protocol-error"
	atf_set "require.progs" "python3"
	atf_set "timeout" "60"
}
protocol_error_body()
{
	run_case protocol_error
}

atf_test_case capabilities
capabilities_head()
{
	atf_set "descr" "Capabilities are trimmed, de-duplicated and sorted"
	atf_set "require.progs" "python3"
	atf_set "timeout" "60"
}
capabilities_body()
{
	run_case capabilities
}

atf_test_case line_length
line_length_head()
{
	atf_set "descr" "A 511-byte line is read, a 512-byte one refused"
	atf_set "require.progs" "python3"
	atf_set "timeout" "60"
}
line_length_body()
{
	run_case line_length
}

atf_test_case slow_client
slow_client_head()
{
	atf_set "descr" "A byte at a time is cut at the total hello deadline"
	atf_set "require.progs" "python3"
	atf_set "timeout" "60"
}
slow_client_body()
{
	run_case slow_client
}

atf_test_case idle_flood
idle_flood_head()
{
	atf_set "descr" "1,000 idle connections do not delay a hello"
	atf_set "require.progs" "python3"
	atf_set "timeout" "60"
}
idle_flood_body()
{
	run_case idle_flood
}

atf_test_case evict
evict_head()
{
	atf_set "descr" "At the cap the oldest unfinished hello is evicted"
	atf_set "require.progs" "python3"
	atf_set "timeout" "60"
}
evict_body()
{
	run_case evict
}

atf_test_case frames
frames_head()
{
	atf_set "descr" "Frame lengths 0, 65536, 65537, bad frames, clean close"
	atf_set "require.progs" "python3"
	atf_set "timeout" "60"
}
frames_body()
{
	run_case frames
}

atf_test_case subscribe
subscribe_head()
{
	atf_set "descr" "The limit of 16 subscriptions; topics in <vm>.json"
	atf_set "require.progs" "python3"
	atf_set "timeout" "60"
}
subscribe_body()
{
	run_case subscribe
}

atf_test_case delivery
delivery_head()
{
	atf_set "descr" "Delivery, vm:<name> targeting, the bus logs"
	atf_set "require.progs" "python3"
	atf_set "timeout" "60"
}
delivery_body()
{
	run_case delivery
}

atf_test_case slow_consumer
slow_consumer_head()
{
	atf_set "descr" "A subscriber that stops reading is dropped"
	atf_set "require.progs" "python3"
	atf_set "timeout" "60"
}
slow_consumer_body()
{
	run_case slow_consumer
}

atf_test_case heartbeat
heartbeat_head()
{
	atf_set "descr" "Heartbeats are recorded; silence ends a session"
	atf_set "require.progs" "python3"
	atf_set "timeout" "60"
}
heartbeat_body()
{
	run_case heartbeat
}

atf_test_case tokens
tokens_head()
{
	atf_set "descr" "VM tokens, the host token, forgetting a VM"
	atf_set "require.progs" "python3"
	atf_set "timeout" "60"
}
tokens_body()
{
	run_case tokens
}

atf_test_case pipelined
pipelined_head()
{
	atf_set "descr" "Frames right behind the hello are served"
	atf_set "require.progs" "python3"
	atf_set "timeout" "60"
}
pipelined_body()
{
	run_case pipelined
}

atf_test_case stop
stop_head()
{
	atf_set "descr" "IMSG_BROKER_STOP closes the listener and sessions"
	atf_set "require.progs" "python3"
	atf_set "timeout" "60"
}
stop_body()
{
	run_case stop
}

atf_test_case project_again
project_again_head()
{
	atf_set "descr" "A repeated project message moves the records"
	atf_set "require.progs" "python3"
	atf_set "timeout" "60"
}
project_again_body()
{
	run_case project_again
}

atf_test_case cli
cli_head()
{
	atf_set "descr" "castra bus publish, subscribe and tail"
	atf_set "require.progs" "python3"
	atf_set "timeout" "60"
}
cli_body()
{
	run_case cli
}

atf_test_case rotate
rotate_head()
{
	atf_set "descr" "A log that would pass 8 MiB is rotated first"
	atf_set "require.progs" "python3"
	atf_set "timeout" "60"
}
rotate_body()
{
	run_case rotate
}

atf_test_case capacity
capacity_head()
{
	atf_set "descr" "A project keeps at most 4096 VM names"
	atf_set "require.progs" "python3"
	atf_set "timeout" "120"
}
capacity_body()
{
	run_case capacity
}

atf_init_test_cases()
{
	atf_add_test_case granted
	atf_add_test_case denied
	atf_add_test_case protocol_error
	atf_add_test_case capabilities
	atf_add_test_case line_length
	atf_add_test_case slow_client
	atf_add_test_case idle_flood
	atf_add_test_case evict
	atf_add_test_case frames
	atf_add_test_case subscribe
	atf_add_test_case delivery
	atf_add_test_case slow_consumer
	atf_add_test_case heartbeat
	atf_add_test_case tokens
	atf_add_test_case pipelined
	atf_add_test_case stop
	atf_add_test_case project_again
	atf_add_test_case cli
	atf_add_test_case rotate
	atf_add_test_case capacity
}
