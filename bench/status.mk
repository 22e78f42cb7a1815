# bench/status: castra status --json, 16 VMs, empty and 1 GiB event logs.
BENCH_C +=	status
status_SRCS =	bench/status.c
