build-asan/castra-vmm/qmp.o: castra-vmm/qmp.c lib/log.h castra-vmm/vmm.h \
 lib/proto.h lib/config.h
lib/log.h:
castra-vmm/vmm.h:
lib/proto.h:
lib/config.h:
