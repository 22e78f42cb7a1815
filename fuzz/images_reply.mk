# castrad: its readers of castra-imgd's progress and answers.
FUZZ_TARGETS +=	images_reply
fuzz_images_reply_SRCS = fuzz/images_reply.c lib/proto.c lib/imsg.c \
		lib/imsg-buffer.c fuzz/fuzz.c regress/rawimsg.c
