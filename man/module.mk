# man
MANS +=	man/castrad.8
MANS +=	man/castra-broker.8
MANS +=	man/castra.conf.5
MANS +=	man/castra-vmm.8
MANS +=	man/castra-agent.8
MANS +=	man/castra-imgd.8
MANS +=	man/castra.1
MANS +=	man/libcastra.3
