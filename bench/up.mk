# castra-vmm: boot to first hello, through castra-vmm and by hand.
BENCH_SH +=	up up4
