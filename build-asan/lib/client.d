build-asan/lib/client.o: lib/client.c lib/client.h lib/castra.h \
 lib/imsg.h lib/proto.h lib/config.h lib/state.h
lib/client.h:
lib/castra.h:
lib/imsg.h:
lib/proto.h:
lib/config.h:
lib/state.h:
