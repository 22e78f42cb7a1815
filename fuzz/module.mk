# fuzz/: libFuzzer targets for every parser of untrusted bytes.
#
# To add a target <name>, write fuzz/<name>.c (LLVMFuzzerTestOneInput)
# and a fragment fuzz/<name>.mk that says
#	FUZZ_TARGETS +=	<name>
#	fuzz_<name>_SRCS = fuzz/<name>.c <the program sources it exercises>
# and put seed inputs in fuzz/corpus/<name>/.  libcastra is linked in
# whole.  Everything is compiled with clang, with ASan and UBSan, into
# $(B)/fuzz, apart from the ordinary build.
#
#	make fuzz			build every target
#	make fuzz-run FUZZ_SECONDS=600	run each for that long
#
# The regress suite runs each target for a few seconds (regress/fuzz).

FUZZ_TARGETS =
include $(filter-out fuzz/module.mk,$(sort $(wildcard fuzz/*.mk)))

FUZZ_CC ?=	clang
FUZZ_SECONDS ?=	60
HAVE_FUZZ_CC !=	command -v $(FUZZ_CC) >/dev/null 2>&1 && echo yes || true
FUZZ_CFLAGS =	-g -O1 -fno-omit-frame-pointer \
		-fsanitize=fuzzer-no-link,address,undefined $(WARNINGS) \
		-Wno-unused-command-line-argument -MMD -MP
FUZZ_LIB_OBJS =	$(patsubst %.c,$(B)/fuzz/obj/%.o, \
		    $(patsubst %.y,$(B)/%.c,$(LIB_SRCS)))

ifneq ($(HAVE_FUZZ_CC),)
FUZZ_PROGS =	$(addprefix $(B)/fuzz/,$(FUZZ_TARGETS))
endif

$(B)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -c -o $@ $<

$(B)/fuzz/libcastra.a: $(FUZZ_LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

define fuzz_rule
$(B)/fuzz/$(1): $$(patsubst %.c,$(B)/fuzz/obj/%.o,$$(fuzz_$(1)_SRCS)) \
    $(B)/fuzz/libcastra.a
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $$@ \
	    $$(filter %.o,$$^) $(B)/fuzz/libcastra.a $(LDLIBS)
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_rule,$(t))))

.PHONY: fuzz fuzz-run
fuzz: $(FUZZ_PROGS)

fuzz-run: fuzz
	sh fuzz/run $(B) $(FUZZ_SECONDS) $(FUZZ_TARGETS)
