# regress/config: castra.conf(5) golden files and the parser's units.
REGRESS_SH +=	config/config_test
REGRESS_C +=	config/config_units
config/config_units_SRCS =	regress/config/config_units.c
