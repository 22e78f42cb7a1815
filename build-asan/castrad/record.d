build-asan/castrad/record.o: castrad/record.c castrad/castrad.h \
 lib/imsg.h lib/proc.h lib/imsg.h lib/proto.h lib/config.h lib/log.h \
 lib/state.h lib/castra.h
castrad/castrad.h:
lib/imsg.h:
lib/proc.h:
lib/imsg.h:
lib/proto.h:
lib/config.h:
lib/log.h:
lib/state.h:
lib/castra.h:
