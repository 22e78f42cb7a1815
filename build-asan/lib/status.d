build-asan/lib/status.o: lib/status.c lib/castra.h lib/config.h \
 lib/state.h
lib/castra.h:
lib/config.h:
lib/state.h:
