build-asan/castrad/images.o: castrad/images.c lib/castra.h \
 castrad/castrad.h lib/imsg.h lib/proc.h lib/imsg.h lib/proto.h \
 lib/config.h castrad/images.h lib/log.h
lib/castra.h:
castrad/castrad.h:
lib/imsg.h:
lib/proc.h:
lib/imsg.h:
lib/proto.h:
lib/config.h:
castrad/images.h:
lib/log.h:
