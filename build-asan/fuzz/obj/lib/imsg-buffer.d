build-asan/fuzz/obj/lib/imsg-buffer.o: lib/imsg-buffer.c lib/imsg.h

lib/imsg.h:
