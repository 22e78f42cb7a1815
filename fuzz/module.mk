# fuzz/: libFuzzer targets for every parser of bytes from outside.
#
# To add a target <name>:
#   - fuzz/<name>.c includes fuzz/fuzz.h, defines LLVMFuzzerTestOneInput()
#     and feeds the bytes to the parser the way its program does; abort()
#     or CHECK() where an invariant breaks, and free and close all it
#     made, since leaks fail too.
#   - fuzz/<name>.mk, a fragment of two lines:
#	FUZZ_TARGETS +=	<name>
#	fuzz_<name>_SRCS = fuzz/<name>.c <the sources it exercises>
#     Name the sources under test (lib/imsg.c, castra-broker/frame.c,
#     lib/parse.y); anything else of libcastra comes from a clang build
#     of the library, of which the linker takes only what is used.  A
#     target that calls fuzz/fuzz.c (descriptor leaks, imsg channels,
#     raw sends) names fuzz/fuzz.c and regress/rawimsg.c too.
#   - fuzz/corpus/<name>/, a few small seed inputs, one per file.
#
# Every source is compiled with clang, ASan, UBSan (which aborts) and
# libFuzzer's coverage into $(B)/fuzz/obj/, apart from the gcc build,
# and each target is linked with the same libraries into $(B)/fuzz/<name>.
#
#	make fuzz			build every target
#	make fuzz-run FUZZ_SECONDS=60	run each that long (fuzz/run)
#
# `make` builds the targets too when clang is installed (FUZZ_PROGS is
# empty otherwise), and the regress suite runs each for a few seconds
# (regress/fuzz).  A run never writes into fuzz/corpus/: new inputs go
# to $(B)/fuzz/scratch/<name>/, to be merged by hand when worth keeping.

FUZZ_TARGETS =
include $(filter-out fuzz/module.mk,$(sort $(wildcard fuzz/*.mk)))

FUZZ_CC ?=	clang
FUZZ_SECONDS ?=	60
HAVE_FUZZ_CC !=	command -v $(FUZZ_CC) >/dev/null 2>&1 && echo yes || true
FUZZ_SANITIZE =	-fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS =	-g -O1 -fno-omit-frame-pointer $(FUZZ_SANITIZE) \
		-fsanitize=fuzzer-no-link $(WARNINGS) \
		-Wno-unused-command-line-argument -MMD -MP
FUZZ_LIB_OBJS =	$(patsubst %.c,$(B)/fuzz/obj/%.o, \
		    $(patsubst %.y,$(B)/%.c,$(LIB_SRCS)))

ifneq ($(HAVE_FUZZ_CC),)
FUZZ_PROGS =	$(addprefix $(B)/fuzz/,$(FUZZ_TARGETS))
endif

# Generated sources (a .y made into $(B)/x.c) compile by the same rule.
$(B)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -c -o $@ $<

$(B)/fuzz/libcastra.a: $(FUZZ_LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

define fuzz_rule
$(B)/fuzz/$(1): $$(patsubst %.c,$(B)/fuzz/obj/%.o, \
    $$(patsubst %.y,$(B)/%.c,$$(fuzz_$(1)_SRCS))) $(B)/fuzz/libcastra.a
	$(FUZZ_CC) $(FUZZ_SANITIZE) -fsanitize=fuzzer -o $$@ \
	    $$(filter %.o,$$^) $(B)/fuzz/libcastra.a $(LDLIBS)
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_rule,$(t))))

.PHONY: fuzz fuzz-run
fuzz: $(FUZZ_PROGS)

fuzz-run: fuzz
	sh fuzz/run $(B) $(FUZZ_SECONDS) $(FUZZ_TARGETS)
