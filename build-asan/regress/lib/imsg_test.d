build-asan/regress/lib/imsg_test.o: regress/lib/imsg_test.c lib/imsg.h
lib/imsg.h:
