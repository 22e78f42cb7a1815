build-asan/fuzz/obj/fuzz/config.o: fuzz/config.c lib/config.h

lib/config.h:
