build-asan/castra/down.o: castra/down.c castra/castra.h \
 castra/../lib/castra.h
castra/castra.h:
castra/../lib/castra.h:
