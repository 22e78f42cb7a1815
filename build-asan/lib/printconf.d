build-asan/lib/printconf.o: lib/printconf.c lib/config.h
lib/config.h:
