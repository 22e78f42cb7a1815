# castra-vmm: the readers of castrad's start, stop and adopt requests.
FUZZ_TARGETS +=	vmm_request
fuzz_vmm_request_SRCS = fuzz/vmm_request.c castra-vmm/msg.c
$(B)/fuzz/obj/fuzz/vmm_request.o: CPPFLAGS += -Icastra-vmm
