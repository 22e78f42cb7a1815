PROGS_BIN +=	castra
castra_SRCS =	castra/castra.c
castra_SRCS +=	castra/init.c castra/check.c castra/up.c castra/down.c
castra_SRCS +=	castra/status.c castra/ports.c castra/logs.c castra/clean.c
castra_SRCS +=	castra/bus.c castra/image.c
castra_SRCS +=	castra/events.c
