# regress/imgd: castra-imgd against a real HTTP server on 127.0.0.1
# (httpd.py, run from the source tree by the tests).
REGRESS_C +=	imgd/driver imgd/meta_test imgd/progress_test
imgd/progress_test_SRCS =	regress/imgd/progress_test.c
imgd/driver_SRCS =	regress/imgd/driver.c
imgd/meta_test_SRCS =	regress/imgd/meta_test.c
REGRESS_SH +=	imgd/imgd_test
REGRESS_SH +=	imgd/cli_test imgd/up_test
