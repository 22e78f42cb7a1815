# castra-imgd: its readers of castrad's requests, and castrad's relay
# of castra's image pulls and removals to it.
FUZZ_TARGETS +=	imgd_request
fuzz_imgd_request_SRCS = fuzz/imgd_request.c lib/proto.c lib/imsg.c \
		lib/imsg-buffer.c fuzz/fuzz.c regress/rawimsg.c
