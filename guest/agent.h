/*
 * castra-agent: the guest side of the broker protocol.  The agent is
 * built static for any Linux guest and links nothing but libc; the
 * parsers live in agentproto.c so that tests and fuzzers can reach
 * them without a guest.
 */

#ifndef CASTRA_AGENT_H
#define CASTRA_AGENT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define AGENT_HOST		"10.0.2.2"	/* QEMU user net: the host */
#define AGENT_NAME_MAX		63
#define AGENT_TOKEN_MAX		128
#define AGENT_LINE_MAX		511	/* handshake lines, without \n */
#define AGENT_FRAME_MAX		65536
#define AGENT_SESSION_MAX	63
#define AGENT_GREETING		"castra-broker 0.1 ready"

struct agent_config {
	char		 ac_name[AGENT_NAME_MAX + 1];
	char		 ac_token[AGENT_TOKEN_MAX + 1];
	char		 ac_host[16];
	uint16_t	 ac_port;
};

enum agent_reply {
	AGENT_REPLY_BAD = -1,
	AGENT_REPLY_DENIED,
	AGENT_REPLY_OK
};

/* agentproto.c */
int		 agent_valid_name(const char *);
int		 agent_valid_token(const char *);
int		 agent_parse_port(const char *, uint16_t *);
void		 agent_trim(char *);
int		 agent_cmdline(const char *, size_t, struct agent_config *);
int		 agent_hello(char *, size_t, const struct agent_config *);
int		 agent_line(const char *, size_t, size_t *);
int		 agent_greeting(const char *);
enum agent_reply agent_reply(const char *, char *, size_t);
int		 frame_encode(char *, size_t, const char *);
ssize_t		 frame_decode(const unsigned char *, size_t,
		    const unsigned char **, size_t *);
int		 json_string(const char *, size_t, const char *, char *,
		    size_t);

#endif /* CASTRA_AGENT_H */
