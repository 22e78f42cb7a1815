PROGS_SBIN +=	castra-broker
castra-broker_SRCS =	castra-broker/broker.c castra-broker/conn.c \
			castra-broker/handshake.c castra-broker/frame.c \
			castra-broker/session.c castra-broker/records.c
