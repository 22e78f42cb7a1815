build-asan/fuzz/obj/fuzz/frame.o: fuzz/frame.c \
  fuzz/../castra-broker/broker.h lib/proto.h lib/config.h

fuzz/../castra-broker/broker.h:

lib/proto.h:

lib/config.h:
