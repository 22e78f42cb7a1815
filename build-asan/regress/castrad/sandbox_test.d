build-asan/regress/castrad/sandbox_test.o: regress/castrad/sandbox_test.c \
 lib/log.h lib/proc.h lib/imsg.h lib/sandbox.h
lib/log.h:
lib/proc.h:
lib/imsg.h:
lib/sandbox.h:
