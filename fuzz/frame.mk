# castra-broker(8): bus frames of castra-broker/frame.c.
FUZZ_TARGETS +=	frame
fuzz_frame_SRCS = fuzz/frame.c castra-broker/frame.c
