build-asan/regress/vm/parse_test.o: regress/vm/parse_test.c \
 castra-vmm/vmm.h lib/proto.h lib/config.h
castra-vmm/vmm.h:
lib/proto.h:
lib/config.h:
