# castra-imgd: hashing a cached image against sha256sum on the same file.
BENCH_C +=	verify
verify_SRCS =	bench/verify.c castra-imgd/verify.c
$(B)/bench/verify: LDLIBS += -lcrypto
