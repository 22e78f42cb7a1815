build-asan/fuzz/obj/fuzz/vmm_request.o: fuzz/vmm_request.c \
  castra-vmm/vmm.h lib/proto.h lib/config.h

castra-vmm/vmm.h:

lib/proto.h:

lib/config.h:
