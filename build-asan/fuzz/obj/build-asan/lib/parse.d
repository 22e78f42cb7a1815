build-asan/fuzz/obj/build-asan/lib/parse.o: build-asan/lib/parse.c \
  lib/config.h

lib/config.h:
