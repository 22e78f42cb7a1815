# regress/broker: castra-broker(8) against real TCP clients, with a
# driver that plays castrad's part.
REGRESS_C +=	broker/driver
broker/driver_SRCS =	regress/broker/driver.c
REGRESS_SH +=	broker/broker_test broker/broker_only_test
