# castra.conf(5): lib/parse.y and the checks; libcastra is linked whole.
FUZZ_TARGETS +=	config
fuzz_config_SRCS = fuzz/config.c
