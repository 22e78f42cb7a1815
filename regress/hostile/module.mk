# regress/hostile: bad input from outside, the control socket under
# attack, and static analysis of the tree.
REGRESS_C +=	hostile/proto_test
hostile/proto_test_SRCS =	regress/hostile/proto_test.c
REGRESS_SH +=	hostile/control_test
REGRESS_SH +=	hostile/lint_test
# Not a test program: the hostile client that control_test drives.
REGRESS_C +=	hostile/ctlclient
hostile/ctlclient_SRCS =	regress/hostile/ctlclient.c regress/rawimsg.c
