build-asan/castra-imgd/fetch.o: castra-imgd/fetch.c castra-imgd/imgd.h \
 lib/imgmeta.h lib/config.h lib/proto.h lib/log.h
castra-imgd/imgd.h:
lib/imgmeta.h:
lib/config.h:
lib/proto.h:
lib/log.h:
