build-asan/regress/atf_lsan.o: regress/atf_lsan.c
