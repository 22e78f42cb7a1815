build-asan/lib/sandbox.o: lib/sandbox.c lib/log.h lib/proc.h lib/imsg.h \
 lib/sandbox.h
lib/log.h:
lib/proc.h:
lib/imsg.h:
lib/sandbox.h:
