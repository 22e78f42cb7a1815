build-asan/fuzz/obj/castra-broker/handshake.o: castra-broker/handshake.c \
  castra-broker/broker.h lib/proto.h lib/config.h

castra-broker/broker.h:

lib/proto.h:

lib/config.h:
