# regress/bootstrap: castra up's bootstrap pipeline.  unit_test: the tar
# writer and what is kept of a guest's output; bootstrap: end to end
# with real guests, the real broker and a real sshd on 127.0.0.1.
REGRESS_C +=	bootstrap/unit_test
bootstrap/unit_test_SRCS =	regress/bootstrap/unit_test.c
REGRESS_SH +=	bootstrap/bootstrap
REGRESS_C +=	bootstrap/agentboot_test
bootstrap/agentboot_test_SRCS =	regress/bootstrap/agentboot_test.c \
		guest/agentproto.c
