# Castra: a plain GNU Makefile for the whole tree.
#
#	make			build libcastra, castra and the daemons
#	make WITHOUT_CLI=1	build and install only libcastra and castra.h
#	make SANITIZE=1		build with ASan and UBSan, sandbox relaxed
#	make deps		install the Debian packages that are missing
#	make image		build the default guest image (guest/)
#	make up			deps, build, image, then bring up examples/devbox
#	make regress		build and run the regress suite with Kyua
#	make lint		cppcheck and mandoc -Tlint
#	make install		honours PREFIX and DESTDIR
#
# Every directory describes its part in a module.mk included below.

.DEFAULT_GOAL :=	all
MAKEFLAGS +=	-r

VERSION =	0.1.0
GIT_SHA !=	git -C $(CURDIR) rev-parse --short HEAD 2>/dev/null || true

PREFIX ?=	/usr/local
BINDIR ?=	$(PREFIX)/bin
SBINDIR ?=	$(PREFIX)/sbin
LIBDIR ?=	$(PREFIX)/lib
INCLUDEDIR ?=	$(PREFIX)/include
MANDIR ?=	$(PREFIX)/share/man
DATADIR ?=	$(PREFIX)/share/castra
UNITDIR ?=	/lib/systemd/system

B ?=		build
CC ?=		cc
YACC ?=		byacc
CFLAGS ?=	-O2 -g
WARNINGS =	-Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes \
		-Wmissing-declarations -Wshadow -Wpointer-arith \
		-Wsign-compare -Wno-unused-parameter
PKGS =		libbsd-overlay libevent jansson libseccomp libcurl libmd
PKG_CFLAGS !=	pkg-config --cflags $(PKGS) 2>/dev/null || true
PKG_LIBS !=	pkg-config --libs $(PKGS) 2>/dev/null || true

CPPFLAGS +=	-D_GNU_SOURCE -Ilib -I$(B)/lib $(PKG_CFLAGS) \
		-DCASTRA_VERSION='"$(VERSION)"' \
		-DCASTRA_SBINDIR='"$(SBINDIR)"' \
		-DCASTRA_DATADIR='"$(DATADIR)"'
ALL_CFLAGS =	$(CFLAGS) $(WARNINGS) -fPIC -MMD -MP
LDLIBS +=	$(PKG_LIBS)

ifdef SANITIZE
ALL_CFLAGS +=	-fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS +=	-fsanitize=address,undefined
CPPFLAGS +=	-DCASTRA_SANDBOX_RELAXED
endif

LIB_SRCS =
LIB_HEADERS =
PROGS_BIN =
PROGS_SBIN =
MANS =
REGRESS_PROGS =
REGRESS_SCRIPTS =
BENCH_PROGS =

include lib/module.mk
ifndef WITHOUT_CLI
include castra/module.mk
include castrad/module.mk
include castra-broker/module.mk
include castra-vmm/module.mk
include castra-imgd/module.mk
include guest/module.mk
include regress/module.mk
include bench/module.mk
include fuzz/module.mk
endif
include man/module.mk

LIB_OBJS =	$(patsubst %.c,$(B)/%.o,$(patsubst %.y,%.c,$(LIB_SRCS)))
PROGS =		$(PROGS_BIN) $(PROGS_SBIN)
REGRESS_NEEDS =	image

.PHONY: all programs deps image up regress install uninstall clean lint bench

all: programs $(REGRESS_PROGS) $(BENCH_PROGS) $(FUZZ_PROGS)

programs: $(B)/libcastra.a $(B)/libcastra.so $(B)/castra.pc \
    $(addprefix $(B)/bin/,$(PROGS))

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(B)/%.o: $(B)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(B)/%.c: %.y
	@mkdir -p $(dir $@)
	$(YACC) -o $@ $<

# Rewritten only when the commit changes, so that what includes it is
# rebuilt exactly then.
$(B)/lib/version.h: FORCE
	@mkdir -p $(dir $@)
	@echo '#define CASTRA_GIT_SHA "$(GIT_SHA)"' >$@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(B)/lib/version.o: $(B)/lib/version.h

FORCE:

$(B)/libcastra.a: $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/libcastra.so: $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,libcastra.so.0 $(LDFLAGS) -o $@ $^ \
	    $(LDLIBS)

$(B)/castra.pc: lib/castra.pc.in Makefile
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    $< >$@

# Each program links its own objects and the static libcastra.
define program_rule
$(B)/bin/$(1): $$(patsubst %.c,$(B)/%.o,$$($(1)_SRCS)) $(B)/libcastra.a
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $(B)/libcastra.a \
	    $$($(1)_LDLIBS) $$(LDLIBS)
endef
$(foreach p,$(PROGS),$(eval $(call program_rule,$(p))))

DEBIAN_PKGS =	build-essential pkg-config byacc libevent-dev libbsd-dev \
		libjansson-dev libcurl4-openssl-dev libssl-dev libseccomp-dev \
		libmd-dev libclang-rt-14-dev \
		qemu-system-x86 qemu-utils e2fsprogs busybox-static cpio \
		kyua atf-sh libatf-dev mandoc python3 iproute2 clang \
		openssh-client openssh-server faketime procps jq
SUDO !=		[ "$$(id -u)" = 0 ] || echo sudo

deps:
	@missing=; for p in $(DEBIAN_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		    grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
		    --no-install-recommends $$missing; \
	fi
	@getent passwd _castra >/dev/null || $(SUDO) useradd --system \
	    --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin _castra
	@getent group castra >/dev/null || $(SUDO) groupadd --system castra
# QEMU runs as _castra under a root castrad; /dev/kvm is group kvm's.
	@if getent group kvm >/dev/null && \
	    ! id -nG _castra | tr ' ' '\n' | grep -qx kvm; then \
		echo "adding _castra to group kvm"; \
		$(SUDO) usermod -a -G kvm _castra; \
	fi

# The README's one command: everything from a fresh machine to a VM.
up:
	$(MAKE) deps
	$(MAKE) programs image
	cd examples/devbox && $(CURDIR)/$(B)/bin/castra up --wait

# A build that fails still ends with the summary line CI looks for.
regress:
	@$(MAKE) -j$$(nproc) all $(REGRESS_NEEDS) || { \
	    echo "the build failed"; \
	    echo "0 passed, 1 failed"; exit 1; }
	sh regress/run $(B) $(if $(SANITIZE),relaxed,strict)

bench: all
	sh bench/run $(B)

# cppcheck reads the tree without the system headers, which would make
# it slow; regress/hostile/cppcheck.cfg and the two includes give it the
# few macros it cannot do without, and regress/hostile/cppcheck.supp
# lists the findings that were read and found wrong.  Any other finding
# fails, here and in the regress suite (regress/hostile/lint_test).
CPPCHECK ?=	cppcheck
CPPCHECK_JOBS ?= 2
CPPCHECK_DIRS =	lib castra castrad castra-broker castra-vmm castra-imgd \
		guest bench fuzz regress
CPPCHECK_FLAGS = -q -j$(CPPCHECK_JOBS) --enable=warning,portability \
		--inline-suppr --error-exitcode=1 \
		--suppress=missingIncludeSystem \
		--library=regress/hostile/cppcheck.cfg \
		--suppressions-list=regress/hostile/cppcheck.supp \
		--include=/usr/include/bsd/sys/queue.h \
		--include=/usr/include/bsd/sys/tree.h \
		-D_GNU_SOURCE -D__x86_64__ -DCASTRA_VERSION='"$(VERSION)"' \
		-Ilib -I$(B)/lib

.PHONY: cppcheck

lint: cppcheck
	mandoc -Tlint -Wwarning $(MANS)

cppcheck:
	$(CPPCHECK) $(CPPCHECK_FLAGS) $(CPPCHECK_DIRS)

install: programs
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)
	install -m 644 $(B)/libcastra.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(B)/libcastra.so $(DESTDIR)$(LIBDIR)/libcastra.so.0
	ln -sf libcastra.so.0 $(DESTDIR)$(LIBDIR)/libcastra.so
	install -m 644 lib/castra.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 $(B)/castra.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -d $(DESTDIR)$(MANDIR)/man3
	install -m 644 man/libcastra.3 $(DESTDIR)$(MANDIR)/man3/
ifndef WITHOUT_CLI
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR)
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8
	for p in $(PROGS_BIN); do \
		install -m 755 $(B)/bin/$$p $(DESTDIR)$(BINDIR)/; done
	for p in $(PROGS_SBIN); do \
		install -m 755 $(B)/bin/$$p $(DESTDIR)$(SBINDIR)/; done
	for m in $(filter %.1,$(MANS)); do \
		install -m 644 $$m $(DESTDIR)$(MANDIR)/man1/; done
	for m in $(filter %.5,$(MANS)); do \
		install -m 644 $$m $(DESTDIR)$(MANDIR)/man5/; done
	for m in $(filter %.8,$(MANS)); do \
		install -m 644 $$m $(DESTDIR)$(MANDIR)/man8/; done
	install -d $(DESTDIR)$(UNITDIR)
	$(MAKE) install-image
	sed 's|@SBINDIR@|$(SBINDIR)|' etc/castrad.service.in \
	    >$(DESTDIR)$(UNITDIR)/castrad.service
	install -m 644 etc/castrad.socket $(DESTDIR)$(UNITDIR)/
	if [ -z "$(DESTDIR)" ] && ! getent passwd _castra >/dev/null; then \
		useradd --system --no-create-home --home-dir /nonexistent \
		    --shell /usr/sbin/nologin _castra; fi
	if [ -z "$(DESTDIR)" ] && ! getent group castra >/dev/null; then \
		groupadd --system castra; fi
	# The socket, once enabled, starts castrad.service when a member
	# of the castra group first connects.
	if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
		systemctl enable castrad.socket; fi
endif

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' -type f 2>/dev/null)
