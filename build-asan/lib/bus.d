build-asan/lib/bus.o: lib/bus.c lib/castra.h lib/proto.h lib/config.h \
 lib/state.h
lib/castra.h:
lib/proto.h:
lib/config.h:
lib/state.h:
