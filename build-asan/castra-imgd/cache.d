build-asan/castra-imgd/cache.o: castra-imgd/cache.c castra-imgd/imgd.h \
 lib/imgmeta.h lib/config.h lib/proto.h lib/log.h lib/sandbox.h
castra-imgd/imgd.h:
lib/imgmeta.h:
lib/config.h:
lib/proto.h:
lib/log.h:
lib/sandbox.h:
