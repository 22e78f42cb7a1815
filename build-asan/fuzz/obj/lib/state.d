build-asan/fuzz/obj/lib/state.o: lib/state.c lib/log.h lib/state.h \
  lib/castra.h lib/config.h

lib/log.h:

lib/state.h:

lib/castra.h:

lib/config.h:
