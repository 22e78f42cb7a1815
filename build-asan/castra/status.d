build-asan/castra/status.o: castra/status.c castra/castra.h \
 castra/../lib/castra.h
castra/castra.h:
castra/../lib/castra.h:
