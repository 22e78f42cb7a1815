build-asan/castra-vmm/overlay.o: castra-vmm/overlay.c lib/log.h \
 castra-vmm/vmm.h lib/proto.h lib/config.h
lib/log.h:
castra-vmm/vmm.h:
lib/proto.h:
lib/config.h:
