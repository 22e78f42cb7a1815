REGRESS_SH +=	fuzz/fuzz
