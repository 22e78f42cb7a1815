# castra up's bootstrap: a guest's output and its agent's step results,
# lib/bootstrap_out.c.
FUZZ_TARGETS +=	bootstrap
fuzz_bootstrap_SRCS = fuzz/bootstrap.c lib/bootstrap_out.c
