# regress/guest: castra-agent's parsers, the agent run on the host
# against a stand-in broker, and the default image booted under QEMU.
# The boot cases skip unless `make image` has run.
REGRESS_C +=	guest/agentproto_test
guest/agentproto_test_SRCS = regress/guest/agentproto_test.c \
		guest/agentproto.c
REGRESS_SH +=	guest/agent guest/boot
# The agent cases run the static agent itself.
REGRESS_PROGS += $(AGENT)
