# regress/guest: castra-agent's parsers, and the default image booted
# under QEMU.  The boot cases skip unless `make image` has run.
REGRESS_C +=	guest/agentproto_test
guest/agentproto_test_SRCS = regress/guest/agentproto_test.c \
		guest/agentproto.c
REGRESS_SH +=	guest/boot
