# regress/castrad: the sandbox unit test and castrad's process tests.
REGRESS_C +=	castrad/sandbox_test
castrad/sandbox_test_SRCS =	regress/castrad/sandbox_test.c
REGRESS_SH +=	castrad/castrad_test
