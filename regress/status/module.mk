# regress/status: libcastra's read side (state, status, init, ports,
# logs, clean) through castra(1) over state directories the tests
# write, a unit test of lib/state.c, and the library_usage.md example
# built against an installed libcastra.
REGRESS_C +=	status/state_test
status/state_test_SRCS =	regress/status/state_test.c
REGRESS_SH +=	status/status_test status/init_test status/ports_test \
		status/logs_test status/clean_test status/library_test

# Helpers that the scripts source from their own directory.
REGRESS_PROGS +=	$(B)/regress/status/common.sh
$(B)/regress/status/common.sh: regress/status/common.sh
	@mkdir -p $(dir $@)
	cp $< $@
