build-asan/fuzz/obj/lib/ports.o: lib/ports.c lib/castra.h lib/config.h \
  lib/state.h

lib/castra.h:

lib/config.h:

lib/state.h:
