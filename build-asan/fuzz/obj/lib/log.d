build-asan/fuzz/obj/lib/log.o: lib/log.c lib/log.h

lib/log.h:
