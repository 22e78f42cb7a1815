build-asan/lib/updown.o: lib/updown.c lib/castra.h lib/client.h \
 lib/imsg.h lib/config.h lib/proto.h lib/state.h
lib/castra.h:
lib/client.h:
lib/imsg.h:
lib/config.h:
lib/proto.h:
lib/state.h:
