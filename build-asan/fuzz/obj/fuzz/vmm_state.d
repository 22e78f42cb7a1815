build-asan/fuzz/obj/fuzz/vmm_state.o: fuzz/vmm_state.c castra-vmm/vmm.h \
  lib/proto.h lib/config.h

castra-vmm/vmm.h:

lib/proto.h:

lib/config.h:
