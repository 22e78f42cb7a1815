# regress/system: castrad as a system service shared by several users.
REGRESS_SH +=	system/system_test
