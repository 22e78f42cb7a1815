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

#define AGENT_ENV_MAX		32
#define AGENT_ENV_LEN		4096	/* "NAME=value" */
#define AGENT_RUNID_MAX		47

/* A bootstrap request of the host (agentproto.c parses it). */
struct agent_bsreq {
	char		 br_runid[AGENT_RUNID_MAX + 1];
	char		 br_reply[AGENT_RUNID_MAX + 16];
	char		 br_verify[1024];		/* "": none */
	char		 br_sha256[65];
	uint64_t	 br_size;
	uint64_t	 br_timeout_ms;
	char		 br_env[AGENT_ENV_MAX][AGENT_ENV_LEN];
	int		 br_nenv;
};

/* One entry of a ustar archive. */
struct agent_tarent {
	char			 te_name[256];
	int			 te_dir;
	unsigned int		 te_mode;
	const unsigned char	*te_data;
	size_t			 te_size;
};

/* castra-agent.c */
int64_t		 agent_now(void);
size_t		 agent_readn(int, void *, size_t);

/* agentboot.c: the bootstrap under way */
typedef void	agentboot_publish_fn(void *, const char *);

struct agentboot {
	struct agent_bsreq	 ab_req;
	char			 ab_vm[AGENT_NAME_MAX + 1];
	char			 ab_dir[96];
	int			 ab_step;
	pid_t			 ab_pid;
	int			 ab_out;
	int			 ab_killed;
	int64_t			 ab_stepstart;
	int64_t			 ab_deadline;
	char			 ab_tail[2048];
	size_t			 ab_taillen;
	agentboot_publish_fn	*ab_publish;
	void			*ab_arg;
};

void		 agentboot_init(struct agentboot *, agentboot_publish_fn *,
		    void *);
void		 agentboot_request(struct agentboot *, const char *, size_t,
		    const char *);
int		 agentboot_fd(const struct agentboot *);
int		 agentboot_busy(const struct agentboot *);
void		 agentboot_poll(struct agentboot *);

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
int		 json_escape(char *, size_t, const char *, size_t);
int		 agent_bsreq_parse(const char *, size_t, struct agent_bsreq *);
int		 agent_tar_next(const unsigned char *, size_t, size_t *,
		    struct agent_tarent *);

#endif /* CASTRA_AGENT_H */
