build-asan/castra/check.o: castra/check.c castra/castra.h \
 castra/../lib/castra.h castra/../lib/config.h
castra/castra.h:
castra/../lib/castra.h:
castra/../lib/config.h:
