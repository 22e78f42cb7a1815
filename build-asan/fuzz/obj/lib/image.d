build-asan/fuzz/obj/lib/image.o: lib/image.c lib/castra.h lib/client.h \
  lib/imsg.h lib/config.h lib/imgmeta.h lib/proto.h lib/state.h

lib/castra.h:

lib/client.h:

lib/imsg.h:

lib/config.h:

lib/imgmeta.h:

lib/proto.h:

lib/state.h:
