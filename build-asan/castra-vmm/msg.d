build-asan/castra-vmm/msg.o: castra-vmm/msg.c castra-vmm/vmm.h \
 lib/proto.h lib/config.h
castra-vmm/vmm.h:
lib/proto.h:
lib/config.h:
