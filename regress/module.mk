# regress/: each area has a directory with a Kyuafile and a module.mk
# that adds its atf-c programs to REGRESS_C (name relative to regress/,
# with <name>_SRCS) and its atf-sh scripts to REGRESS_SH.  Kyua runs them
# from $(B)/regress, its build root.

REGRESS_C =
REGRESS_SH =

include $(sort $(wildcard regress/*/module.mk))

# Every atf-c program links regress/atf_lsan.c, which keeps
# LeakSanitizer quiet about libatf-c's own lists in SANITIZE builds.
define regress_c_rule
REGRESS_PROGS += $(B)/regress/$(1)
$(B)/regress/$(1): $$(patsubst %.c,$(B)/%.o,$$($(1)_SRCS)) \
    $(B)/regress/atf_lsan.o $(B)/libcastra.a
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $(B)/libcastra.a \
	    -latf-c $$(LDLIBS)
endef
$(foreach t,$(REGRESS_C),$(eval $(call regress_c_rule,$(t))))

define regress_sh_rule
REGRESS_PROGS += $(B)/regress/$(1)
$(B)/regress/$(1): regress/$(1).sh
	@mkdir -p $$(dir $$@)
	cp $$< $$@
	chmod +x $$@
endef
$(foreach t,$(REGRESS_SH),$(eval $(call regress_sh_rule,$(t))))

# What the scripts share (common.subr: every area; project.subr: the
# end-to-end ones); each sources them from the build root.
REGRESS_PROGS += $(B)/regress/common.subr $(B)/regress/project.subr
$(B)/regress/%.subr: regress/%.subr
	@mkdir -p $(dir $@)
	cp $< $@
