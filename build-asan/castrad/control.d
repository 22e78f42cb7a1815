build-asan/castrad/control.o: castrad/control.c lib/castra.h \
 castrad/castrad.h lib/imsg.h lib/proc.h lib/imsg.h lib/proto.h \
 lib/config.h lib/log.h
lib/castra.h:
castrad/castrad.h:
lib/imsg.h:
lib/proc.h:
lib/imsg.h:
lib/proto.h:
lib/config.h:
lib/log.h:
