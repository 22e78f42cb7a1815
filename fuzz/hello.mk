# castra-broker(8): the hello line of castra-broker/handshake.c.
FUZZ_TARGETS +=	hello
fuzz_hello_SRCS = fuzz/hello.c castra-broker/handshake.c
