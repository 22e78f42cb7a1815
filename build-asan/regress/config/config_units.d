build-asan/regress/config/config_units.o: regress/config/config_units.c \
 lib/config.h
lib/config.h:
