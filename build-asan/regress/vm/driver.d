build-asan/regress/vm/driver.o: regress/vm/driver.c lib/castra.h \
 lib/imsg.h lib/proto.h lib/config.h
lib/castra.h:
lib/imsg.h:
lib/proto.h:
lib/config.h:
