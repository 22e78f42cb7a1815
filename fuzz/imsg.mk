# imsg(3) as castrad and its children read it from each other.
FUZZ_TARGETS +=	imsg
fuzz_imsg_SRCS = fuzz/imsg.c lib/imsg.c lib/imsg-buffer.c fuzz/fuzz.c \
		regress/rawimsg.c
