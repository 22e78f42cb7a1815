# castra-vmm: VM records, /proc/PID/stat lines and QMP lines.
FUZZ_TARGETS +=	vmm_state
fuzz_vmm_state_SRCS = fuzz/vmm_state.c castra-vmm/record.c \
		castra-vmm/qemu.c castra-vmm/qmp.c castra-vmm/overlay.c
$(B)/fuzz/obj/fuzz/vmm_state.o: CPPFLAGS += -Icastra-vmm
