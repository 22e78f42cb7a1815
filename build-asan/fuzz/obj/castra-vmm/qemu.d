build-asan/fuzz/obj/castra-vmm/qemu.o: castra-vmm/qemu.c lib/log.h \
  lib/proc.h lib/imsg.h castra-vmm/vmm.h lib/proto.h lib/config.h

lib/log.h:

lib/proc.h:

lib/imsg.h:

castra-vmm/vmm.h:

lib/proto.h:

lib/config.h:
