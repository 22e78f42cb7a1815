build-asan/regress/guest/agentproto_test.o: \
 regress/guest/agentproto_test.c regress/guest/../../guest/agent.h
regress/guest/../../guest/agent.h:
