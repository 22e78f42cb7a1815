build-asan/castra-broker/conn.o: castra-broker/conn.c \
 castra-broker/broker.h lib/proto.h lib/config.h lib/log.h
castra-broker/broker.h:
lib/proto.h:
lib/config.h:
lib/log.h:
