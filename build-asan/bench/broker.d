build-asan/bench/broker.o: bench/broker.c
