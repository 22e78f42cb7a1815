build-asan/castra-broker/session.o: castra-broker/session.c \
 castra-broker/broker.h lib/proto.h lib/config.h lib/log.h lib/proc.h \
 lib/imsg.h
castra-broker/broker.h:
lib/proto.h:
lib/config.h:
lib/log.h:
lib/proc.h:
lib/imsg.h:
