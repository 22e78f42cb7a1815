build-asan/castra-imgd/imgd.o: castra-imgd/imgd.c castra-imgd/imgd.h \
 lib/imgmeta.h lib/config.h lib/proto.h lib/log.h lib/proc.h lib/imsg.h \
 lib/sandbox.h
castra-imgd/imgd.h:
lib/imgmeta.h:
lib/config.h:
lib/proto.h:
lib/log.h:
lib/proc.h:
lib/imsg.h:
lib/sandbox.h:
