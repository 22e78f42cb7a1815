build-asan/fuzz/obj/lib/proc.o: lib/proc.c lib/imsg.h lib/log.h \
  lib/proc.h lib/proto.h lib/config.h

lib/imsg.h:

lib/log.h:

lib/proc.h:

lib/proto.h:

lib/config.h:
