build-asan/castrad/project.o: castrad/project.c lib/castra.h \
 castrad/castrad.h lib/imsg.h lib/proc.h lib/imsg.h lib/proto.h \
 lib/config.h castrad/images.h lib/log.h lib/state.h lib/castra.h
lib/castra.h:
castrad/castrad.h:
lib/imsg.h:
lib/proc.h:
lib/imsg.h:
lib/proto.h:
lib/config.h:
castrad/images.h:
lib/log.h:
lib/state.h:
lib/castra.h:
