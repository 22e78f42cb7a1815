# regress/vm: castra-vmm against real guests under QEMU, driven by a
# stand-in for castrad; unit tests of its parsers on its own objects.
REGRESS_C +=	vm/driver vm/parse_test
vm/driver_SRCS =	regress/vm/driver.c
vm/parse_test_SRCS =	regress/vm/parse_test.c castra-vmm/msg.c \
			castra-vmm/qemu.c castra-vmm/record.c castra-vmm/qmp.c \
			castra-vmm/overlay.c
REGRESS_SH +=	vm/vm_test
$(B)/regress/vm/parse_test.o: CPPFLAGS += -Icastra-vmm
