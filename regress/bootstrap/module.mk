REGRESS_SH +=	bootstrap/bootstrap
