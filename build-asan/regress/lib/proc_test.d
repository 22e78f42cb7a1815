build-asan/regress/lib/proc_test.o: regress/lib/proc_test.c lib/imsg.h \
 lib/log.h lib/proc.h lib/imsg.h lib/proto.h lib/config.h \
 regress/lib/proc_child.h
lib/imsg.h:
lib/log.h:
lib/proc.h:
lib/imsg.h:
lib/proto.h:
lib/config.h:
regress/lib/proc_child.h:
