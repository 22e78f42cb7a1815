build-asan/fuzz/obj/castra-vmm/record.o: castra-vmm/record.c lib/log.h \
  castra-vmm/vmm.h lib/proto.h lib/config.h

lib/log.h:

castra-vmm/vmm.h:

lib/proto.h:

lib/config.h:
