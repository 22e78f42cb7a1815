build-asan/castra/up.o: castra/up.c castra/castra.h \
 castra/../lib/castra.h
castra/castra.h:
castra/../lib/castra.h:
