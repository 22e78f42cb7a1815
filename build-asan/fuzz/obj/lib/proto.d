build-asan/fuzz/obj/lib/proto.o: lib/proto.c lib/imsg.h lib/proto.h \
  lib/config.h

lib/imsg.h:

lib/proto.h:

lib/config.h:
