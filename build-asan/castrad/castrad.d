build-asan/castrad/castrad.o: castrad/castrad.c castrad/castrad.h \
 lib/imsg.h lib/proc.h lib/imsg.h lib/proto.h lib/config.h \
 castrad/images.h lib/log.h lib/sandbox.h
castrad/castrad.h:
lib/imsg.h:
lib/proc.h:
lib/imsg.h:
lib/proto.h:
lib/config.h:
castrad/images.h:
lib/log.h:
lib/sandbox.h:
