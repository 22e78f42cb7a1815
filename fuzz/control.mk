# castrad's control socket: castrad/control.c and what it calls, with
# the messages of a hostile client.
FUZZ_TARGETS +=	control
fuzz_control_SRCS = fuzz/control.c castrad/control.c castrad/project.c \
		castrad/images.c castrad/record.c castrad/systemd.c \
		lib/proto.c lib/imsg.c \
		lib/imsg-buffer.c fuzz/fuzz.c regress/rawimsg.c
