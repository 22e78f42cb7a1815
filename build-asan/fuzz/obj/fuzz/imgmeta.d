build-asan/fuzz/obj/fuzz/imgmeta.o: fuzz/imgmeta.c lib/imgmeta.h \
  lib/config.h

lib/imgmeta.h:

lib/config.h:
