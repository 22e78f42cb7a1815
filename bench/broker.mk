# castra-broker: hellos per second and one hello's latency while
# thousands of hostile connections are open, against a minimal loop.
BENCH_C +=	broker
broker_SRCS =	bench/broker.c
