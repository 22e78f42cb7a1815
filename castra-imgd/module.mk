PROGS_SBIN +=	castra-imgd
castra-imgd_SRCS =	castra-imgd/imgd.c castra-imgd/fetch.c \
			castra-imgd/cache.c castra-imgd/verify.c
