/*
 * castra-broker(8): guests and host sessions say hello over TCP, the
 * broker records every handshake in the project's state root, and
 * granted sessions speak the bus.
 */

#ifndef CASTRA_BROKER_H
#define CASTRA_BROKER_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <event.h>
#include <jansson.h>
#include <stdint.h>

#include "proto.h"

#define BROKER_GREETING		"castra-broker 0.1 ready\n"
#define BROKER_HELLO_TIMEOUT	5	/* seconds, total, from accept */
#define BROKER_HEARTBEAT_TIMEOUT 60	/* seconds */
#define BROKER_CONN_MAX		16384	/* of all projects together */
#define BROKER_FD_RESERVE	64	/* kept for logs and castrad */
#define BROKER_LOG_MAX		(8 * 1024 * 1024) /* then rotate to .1 */
#define BROKER_VMS_MAX		4096	/* names a project keeps */
#define BROKER_RECORD_INTERVAL	1000	/* ms between writes of a record */

#define HELLO_LINE_MAX		511	/* bytes before the newline */
#define HELLO_CAPS_MAX		16
#define HELLO_CAP_LEN		32
#define HELLO_CAPS_STR		(HELLO_CAPS_MAX * (HELLO_CAP_LEN + 1) + 1)
#define HELLO_HOST_NAME		"host"
#define HELLO_CAP_BUS		"bus-v1"
#define HELLO_CAP_HOST		"host-bus"

#define FRAME_MAX		65536
#define FRAME_HDR		4
#define TOPIC_MAX		(3 + VM_NAME_MAX)	/* "vm:<name>" */
#define SESSION_TOPICS_MAX	16
#define SESSION_OUT_MAX		(256 * 1024)	/* bytes queued, per session */
#define SESSION_SNDBUF		(64 * 1024)
#define SESSION_ID_LEN		16
#define REMOTE_MAX		64

enum session_kind {
	KIND_GUEST,
	KIND_HOST
};

/* A parsed hello line. */
struct hello {
	char		 h_name[VM_NAME_MAX];
	char		 h_caps[HELLO_CAPS_MAX][HELLO_CAP_LEN + 1];
	size_t		 h_ncaps;
	char		 h_token[TOKEN_HEX_LEN + 1];
	int		 h_has_token;
};

/* A decoded bus frame. */
enum frame_type {
	FRAME_PUBLISH,
	FRAME_SUBSCRIBE,
	FRAME_HEARTBEAT
};

struct frame {
	enum frame_type	 fr_type;
	char		 fr_topic[TOPIC_MAX + 1];	/* or "" */
	json_t		*fr_payload;			/* publish */
	json_t		*fr_root;
};

struct session;

/* A VM name known to a project: registered by castrad, or seen. */
struct bvm {
	RB_ENTRY(bvm)	 vm_entry;
	struct project	*vm_project;
	char		 vm_name[VM_NAME_MAX];
	char		 vm_token[TOKEN_HEX_LEN + 1];	/* "": none */
	struct session	*vm_session;	/* the newest guest session */
	int		 vm_record;	/* a granted handshake is known */
	int64_t		 vm_hello_ms;
	char		 vm_remote[REMOTE_MAX];
	char		 vm_caps[HELLO_CAPS_STR];
	char		 vm_session_id[SESSION_ID_LEN + 1];
	int64_t		 vm_heartbeat_ms;
	int64_t		 vm_written_ms;	/* last <vm>.json write */
	int		 vm_dirty;
	struct event	 vm_flush_ev;
};
RB_HEAD(bvms, bvm);

/* An open log file of a project, rotated at BROKER_LOG_MAX. */
struct logfile {
	const char	*lf_path;	/* relative to the state root */
	int		 lf_fd;
	uint64_t	 lf_size;	/* as far as the broker wrote it */
};

struct project {
	TAILQ_ENTRY(project)	 pj_entry;
	char			 pj_id[PROJECT_ID_MAX];
	char			 pj_token[TOKEN_HEX_LEN + 1];
	uint16_t		 pj_port;
	int			 pj_hello_timeout;	/* seconds */
	int			 pj_heartbeat_timeout;	/* seconds */
	int			 pj_dirfd;	/* the state root */
	int			 pj_listenfd;
	struct event		 pj_listen_ev;
	struct event		 pj_pause_ev;
	struct logfile		 pj_brokerlog;
	struct logfile		 pj_hsevents;
	struct logfile		 pj_busevents;
	struct logfile		 pj_buslog;
	struct bvms		 pj_vms;
	int			 pj_nvms;
	TAILQ_HEAD(sessions, session) pj_sessions;
};
TAILQ_HEAD(projects, project);

/* A connection that has not finished its hello. */
struct conn {
	TAILQ_ENTRY(conn)	 cn_entry;	/* oldest first */
	struct project		*cn_project;
	int			 cn_fd;
	struct event		 cn_ev;
	struct timeval		 cn_deadline;	/* monotonic */
	char			 cn_remote[REMOTE_MAX];
	size_t			 cn_len;
	char			 cn_buf[HELLO_LINE_MAX + 1];
};
TAILQ_HEAD(conns, conn);

/* A granted session speaking the bus. */
struct session {
	TAILQ_ENTRY(session)	 ss_entry;
	struct project		*ss_project;
	struct bvm		*ss_vm;		/* guests only */
	enum session_kind	 ss_kind;
	int			 ss_fd;
	char			 ss_id[SESSION_ID_LEN + 1];
	char			 ss_name[VM_NAME_MAX];
	char			 ss_remote[REMOTE_MAX];
	struct event		 ss_rev;
	struct event		 ss_wev;
	struct event		 ss_hbev;
	struct evbuffer		*ss_in;
	struct evbuffer		*ss_out;
	char			 ss_topics[SESSION_TOPICS_MAX]
				    [TOPIC_MAX + 1];
	int			 ss_ntopics;
};

/* broker.c */
extern struct projects	 broker_projects;
extern int		 broker_conn_max;
extern int		 broker_nconns;
int64_t		 broker_now_ms(void);
struct bvm	*broker_vm_find(struct project *, const char *);
struct bvm	*broker_vm_get(struct project *, const char *);
void		 broker_vm_release(struct bvm *);
void		 broker_close(int);
int		 bvm_cmp(struct bvm *, struct bvm *);
RB_PROTOTYPE(bvms, bvm, vm_entry, bvm_cmp);

/* conn.c */
void		 conn_listen(struct project *, int);
void		 conn_unlisten(struct project *);
void		 conn_accept(int, short, void *);
void		 conn_close_project(struct project *);
int		 conn_evict(void);

/* handshake.c */
int		 hello_parse(const char *, size_t, struct hello *,
		    const char **);
int		 hello_has_cap(const struct hello *, const char *);
void		 hello_caps_join(const struct hello *, char *, size_t);
const char	*hello_check(const struct hello *, const char *,
		    const char *, enum session_kind *);

/* frame.c */
int		 frame_length(const unsigned char *, uint32_t *);
int		 frame_decode(const void *, size_t, struct frame *,
		    const char **);
void		 frame_clear(struct frame *);
int		 frame_topic_valid(const char *);
char		*frame_ack(const char *, const char *, const char *,
		    const char *, json_int_t);

/* session.c */
int		 session_start(struct project *, int, const struct hello *,
		    enum session_kind, const char *, const char *, int64_t,
		    const char *, size_t);
void		 session_close(struct session *, const char *,
		    const char *);
void		 session_close_project(struct project *);

/* records.c */
void		 records_init(struct project *);
void		 records_close(struct project *);
void		 records_log(struct project *, const char *, const char *,
		    ...) __attribute__((__format__ (printf, 3, 4)));
void		 records_handshake(struct project *, int64_t, const char *,
		    const char *, const char *, enum session_kind,
		    const char *, const char *);
void		 records_vm(struct bvm *, int);
void		 records_flush(int, short, void *);
void		 records_bus_event(struct project *, const char *,
		    const char *, const char *, const char *, const char *);
void		 records_publish(struct project *, const char *,
		    const char *, const char *, size_t);

#endif /* CASTRA_BROKER_H */
