# castra-vmm: the command line of a QEMU found without a record.
FUZZ_TARGETS +=	stray
fuzz_stray_SRCS = fuzz/stray.c castra-vmm/stray.c castra-vmm/qemu.c
$(B)/fuzz/obj/fuzz/stray.o: CPPFLAGS += -Icastra-vmm
