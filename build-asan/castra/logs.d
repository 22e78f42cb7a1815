build-asan/castra/logs.o: castra/logs.c castra/castra.h \
 castra/../lib/castra.h
castra/castra.h:
castra/../lib/castra.h:
