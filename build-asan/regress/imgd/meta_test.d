build-asan/regress/imgd/meta_test.o: regress/imgd/meta_test.c \
 lib/imgmeta.h lib/config.h
lib/imgmeta.h:
lib/config.h:
