build-asan/fuzz/obj/lib/imgmeta.o: lib/imgmeta.c lib/imgmeta.h \
  lib/config.h

lib/imgmeta.h:

lib/config.h:
