build-asan/castra-vmm/accel.o: castra-vmm/accel.c lib/log.h lib/sandbox.h \
 castra-vmm/vmm.h lib/proto.h lib/config.h
lib/log.h:
lib/sandbox.h:
castra-vmm/vmm.h:
lib/proto.h:
lib/config.h:
