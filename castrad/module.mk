PROGS_SBIN +=	castrad
castrad_SRCS =	castrad/castrad.c castrad/control.c
castrad_SRCS +=	castrad/project.c castrad/record.c
castrad_SRCS +=	castrad/images.c castrad/systemd.c
