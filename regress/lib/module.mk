# regress/lib: imsg and ibuf over real sockets; the process framework
# with a real child program (proc_child, started by proc_test); paths
# below a state root that never follow a planted link.
REGRESS_C +=		lib/imsg_test lib/proc_test lib/beneath_test
lib/imsg_test_SRCS =	regress/lib/imsg_test.c regress/rawimsg.c
lib/proc_test_SRCS =	regress/lib/proc_test.c
lib/beneath_test_SRCS =	regress/lib/beneath_test.c

REGRESS_PROGS +=	$(B)/regress/lib/proc_child
$(B)/regress/lib/proc_child: $(B)/regress/lib/proc_child.o $(B)/libcastra.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(B)/libcastra.a $(LDLIBS)
REGRESS_SH +=		lib/version_test
