# bench/: each benchmark measures a budget of DESIGN.md beside its
# baseline in the same run and prints the ratio.  A C benchmark adds
# its name to BENCH_C with <name>_SRCS; a shell one adds bench/<name>.sh
# to BENCH_SH.  `make bench` runs them all through bench/run.

BENCH_C =
BENCH_SH =

include $(filter-out bench/module.mk,$(sort $(wildcard bench/*.mk)))

define bench_c_rule
BENCH_PROGS += $(B)/bench/$(1)
$(B)/bench/$(1): $$(patsubst %.c,$(B)/%.o,$$($(1)_SRCS)) $(B)/libcastra.a
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $(B)/libcastra.a \
	    $$(LDLIBS)
endef
$(foreach t,$(BENCH_C),$(eval $(call bench_c_rule,$(t))))

define bench_sh_rule
BENCH_PROGS += $(B)/bench/$(1)
$(B)/bench/$(1): bench/$(1).sh
	@mkdir -p $$(dir $$@)
	cp $$< $$@
	chmod +x $$@
endef
$(foreach t,$(BENCH_SH),$(eval $(call bench_sh_rule,$(t))))
