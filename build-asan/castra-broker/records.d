build-asan/castra-broker/records.o: castra-broker/records.c \
 castra-broker/broker.h lib/proto.h lib/config.h lib/log.h
castra-broker/broker.h:
lib/proto.h:
lib/config.h:
lib/log.h:
