# libcastra: the framework shared by every program, and the public API.
LIB_SRCS +=	lib/imsg.c lib/imsg-buffer.c lib/log.c lib/proc.c \
		lib/sandbox.c lib/proto.c
LIB_HEADERS +=	lib/castra.h
LIB_SRCS +=	lib/state.c lib/project.c lib/status.c lib/ports.c lib/logs.c \
		lib/clean.c lib/beneath.c
LIB_SRCS +=	lib/client.c lib/updown.c
LIB_SRCS +=	lib/parse.y lib/printconf.c lib/config.c
# Generate parse.c under $(B), never beside parse.y.
$(B)/lib/parse.o: $(B)/lib/parse.c
LIB_SRCS +=	lib/imgmeta.c lib/image.c
LIB_SRCS +=	lib/bus.c
LIB_SRCS +=	lib/bootstrap.c lib/bootstrap_tar.c lib/bootstrap_log.c \
		lib/bootstrap_out.c
LIB_SRCS +=	lib/version.c
LIB_SRCS +=	lib/preflight.c
