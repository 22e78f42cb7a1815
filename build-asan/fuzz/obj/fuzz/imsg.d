build-asan/fuzz/obj/fuzz/imsg.o: fuzz/imsg.c lib/imsg.h

lib/imsg.h:
