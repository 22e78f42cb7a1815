build-asan/castra-broker/broker.o: castra-broker/broker.c \
 castra-broker/broker.h lib/proto.h lib/config.h lib/imsg.h lib/log.h \
 lib/proc.h lib/imsg.h lib/sandbox.h
castra-broker/broker.h:
lib/proto.h:
lib/config.h:
lib/imsg.h:
lib/log.h:
lib/proc.h:
lib/imsg.h:
lib/sandbox.h:
