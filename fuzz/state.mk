# lib/state.c and lib/status.c: /proc stat and the state records.
FUZZ_TARGETS +=	state
fuzz_state_SRCS = fuzz/state.c
