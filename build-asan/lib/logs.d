build-asan/lib/logs.o: lib/logs.c lib/castra.h lib/config.h lib/state.h
lib/castra.h:
lib/config.h:
lib/state.h:
