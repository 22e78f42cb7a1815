# castra-agent(8)'s bootstrap: the host's request, the tar from fw_cfg
# and the escaping of results, in guest/agentproto.c.
FUZZ_TARGETS +=	agentboot
fuzz_agentboot_SRCS = fuzz/agentboot.c guest/agentproto.c
