build-asan/guest/agentproto.o: guest/agentproto.c guest/agent.h
guest/agent.h:
