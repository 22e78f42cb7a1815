# castra-agent(8): the guest's parsers in guest/agentproto.c.
FUZZ_TARGETS +=	agent
fuzz_agent_SRCS = fuzz/agent.c guest/agentproto.c
