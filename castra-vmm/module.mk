PROGS_SBIN +=	castra-vmm
castra-vmm_SRCS =	castra-vmm/vmm.c castra-vmm/accel.c castra-vmm/overlay.c \
			castra-vmm/qemu.c castra-vmm/qmp.c castra-vmm/record.c \
			castra-vmm/msg.c castra-vmm/stray.c
