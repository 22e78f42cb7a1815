build-asan/castra/init.o: castra/init.c castra/castra.h \
 castra/../lib/castra.h
castra/castra.h:
castra/../lib/castra.h:
