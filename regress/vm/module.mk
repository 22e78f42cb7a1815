# regress/vm: castra-vmm against real guests under QEMU, driven by a
# stand-in for castrad; unit tests of its parsers.
REGRESS_C +=	vm/driver
vm/driver_SRCS =	regress/vm/driver.c
REGRESS_SH +=	vm/vm_test
