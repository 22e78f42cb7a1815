build-asan/lib/imsg-buffer.o: lib/imsg-buffer.c lib/imsg.h
lib/imsg.h:
