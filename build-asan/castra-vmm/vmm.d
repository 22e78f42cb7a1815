build-asan/castra-vmm/vmm.o: castra-vmm/vmm.c lib/castra.h lib/imsg.h \
 lib/log.h lib/proc.h lib/imsg.h lib/sandbox.h castra-vmm/vmm.h \
 lib/proto.h lib/config.h
lib/castra.h:
lib/imsg.h:
lib/log.h:
lib/proc.h:
lib/imsg.h:
lib/sandbox.h:
castra-vmm/vmm.h:
lib/proto.h:
lib/config.h:
