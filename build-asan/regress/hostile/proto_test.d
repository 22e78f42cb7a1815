build-asan/regress/hostile/proto_test.o: regress/hostile/proto_test.c \
 lib/imsg.h lib/proto.h lib/config.h
lib/imsg.h:
lib/proto.h:
lib/config.h:
