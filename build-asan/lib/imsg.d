build-asan/lib/imsg.o: lib/imsg.c lib/imsg.h
lib/imsg.h:
