build-asan/fuzz/obj/lib/clean.o: lib/clean.c lib/castra.h lib/state.h \
  lib/config.h

lib/castra.h:

lib/state.h:

lib/config.h:
