# man
MANS +=	man/castrad.8
