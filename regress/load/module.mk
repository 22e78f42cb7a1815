# regress/load: castrad and the broker keep serving under load (many
# guests booting at once, thousands of idle connections).  The script
# sources regress/faults/common.sh.
REGRESS_SH +=	load/load
