# regress/lib: imsg and ibuf over real sockets; the process framework
# with a real child program (proc_child, started by proc_test).
REGRESS_C +=		lib/imsg_test lib/proc_test
lib/imsg_test_SRCS =	regress/lib/imsg_test.c
lib/proc_test_SRCS =	regress/lib/proc_test.c

REGRESS_PROGS +=	$(B)/regress/lib/proc_child
$(B)/regress/lib/proc_child: $(B)/regress/lib/proc_child.o $(B)/libcastra.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(B)/libcastra.a $(LDLIBS)
REGRESS_SH +=		lib/version_test
