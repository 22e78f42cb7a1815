build-asan/fuzz/obj/lib/project.o: lib/project.c lib/castra.h \
  lib/config.h lib/state.h

lib/castra.h:

lib/config.h:

lib/state.h:
