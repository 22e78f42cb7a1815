build-asan/castra-broker/frame.o: castra-broker/frame.c \
 castra-broker/broker.h lib/proto.h lib/config.h
castra-broker/broker.h:
lib/proto.h:
lib/config.h:
