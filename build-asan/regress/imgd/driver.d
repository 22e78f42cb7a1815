build-asan/regress/imgd/driver.o: regress/imgd/driver.c lib/imsg.h \
 lib/proto.h lib/config.h
lib/imsg.h:
lib/proto.h:
lib/config.h:
