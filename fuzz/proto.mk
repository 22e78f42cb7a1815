# The payload readers of lib/proto.c, on every type of message.
FUZZ_TARGETS +=	proto
fuzz_proto_SRCS = fuzz/proto.c lib/proto.c lib/imsg.c lib/imsg-buffer.c \
		fuzz/fuzz.c regress/rawimsg.c
