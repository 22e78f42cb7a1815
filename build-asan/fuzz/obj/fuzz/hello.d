build-asan/fuzz/obj/fuzz/hello.o: fuzz/hello.c \
  fuzz/../castra-broker/broker.h lib/proto.h lib/config.h

fuzz/../castra-broker/broker.h:

lib/proto.h:

lib/config.h:
