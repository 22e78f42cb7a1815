build-asan/bench/verify.o: bench/verify.c bench/../castra-imgd/imgd.h \
 lib/imgmeta.h lib/config.h lib/proto.h
bench/../castra-imgd/imgd.h:
lib/imgmeta.h:
lib/config.h:
lib/proto.h:
