# castra-imgd(8): the record beside each cached image, lib/imgmeta.c.
FUZZ_TARGETS +=	imgmeta
fuzz_imgmeta_SRCS = fuzz/imgmeta.c lib/imgmeta.c
