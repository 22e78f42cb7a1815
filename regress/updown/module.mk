REGRESS_SH +=	updown/updown
