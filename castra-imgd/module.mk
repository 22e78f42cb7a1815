PROGS_SBIN +=	castra-imgd
castra-imgd_SRCS =	castra-imgd/imgd.c castra-imgd/fetch.c \
			castra-imgd/cache.c castra-imgd/verify.c
# OpenSSL's SHA-256 and SHA-512 use the CPU's SHA instructions.
castra-imgd_LDLIBS =	-lcrypto
