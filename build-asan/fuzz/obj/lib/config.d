build-asan/fuzz/obj/lib/config.o: lib/config.c lib/config.h

lib/config.h:
