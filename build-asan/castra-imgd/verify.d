build-asan/castra-imgd/verify.o: castra-imgd/verify.c castra-imgd/imgd.h \
 lib/imgmeta.h lib/config.h lib/proto.h lib/log.h
castra-imgd/imgd.h:
lib/imgmeta.h:
lib/config.h:
lib/proto.h:
lib/log.h:
