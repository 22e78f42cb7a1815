build-asan/lib/version.o: lib/version.c lib/castra.h \
 build-asan/lib/version.h
lib/castra.h:
build-asan/lib/version.h:
