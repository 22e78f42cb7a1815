build-asan/fuzz/obj/fuzz/agent.o: fuzz/agent.c fuzz/../guest/agent.h

fuzz/../guest/agent.h:
