build-asan/regress/broker/driver.o: regress/broker/driver.c lib/imsg.h \
 lib/proto.h lib/config.h
lib/imsg.h:
lib/proto.h:
lib/config.h:
