/*
 * castrad(8): the parent.  It starts and restarts the three children,
 * owns the control socket, keeps the projects that are up, and relays
 * between the children, which never talk to each other.
 */

#ifndef CASTRAD_H
#define CASTRAD_H

#include <sys/types.h>
#include <sys/queue.h>

#include <event.h>

#include "imsg.h"
#include "proc.h"
#include "proto.h"

#define CASTRAD_SOCKET		"castrad.sock"
#define CASTRAD_PIDFILE		"castrad.pid"
#define CASTRAD_GROUP		"castra"

struct ctlconn;

enum vm_state {
	VM_PENDING,		/* waiting for images or dependencies */
	VM_STARTING,		/* vmm asked to start it */
	VM_RUNNING,		/* QEMU runs, no hello yet */
	VM_REACHABLE,		/* the guest said hello */
	VM_STOPPING,
	VM_STOPPED,
	VM_FAILED
};

struct vmstate {
	TAILQ_ENTRY(vmstate)	 vs_entry;
	struct ctl_vm		 vs_conf;
	char			 vs_token[TOKEN_HEX_LEN + 1];
	enum vm_state		 vs_state;
	pid_t			 vs_pid;
	char			 vs_images[3][SHA256_HEX_LEN + 1]; /* adopted */
	int			 vs_hasboot;	/* vs_bootfd is a tar to */
	int			 vs_bootfd;	/* hand castra-vmm */
};
TAILQ_HEAD(vmstates, vmstate);

struct artifactref {
	TAILQ_ENTRY(artifactref) ar_entry;
	struct project		*ar_project;
	struct ctl_image	 ar_image;
	int			 ar_fd;		/* local file, or -1 */
	char			 ar_sha256[SHA256_HEX_LEN + 1]; /* when ready */
	int			 ar_done;
};
TAILQ_HEAD(artifactrefs, artifactref);

struct project {
	TAILQ_ENTRY(project)	 pr_entry;
	struct ctl_project	 pr_conf;
	uid_t			 pr_owner;	/* the state root's owner */
	char			 pr_key[PROJECT_KEY_MAX]; /* to the children */
	int			 pr_rootfd;	/* the state root */
	int			 pr_listenfd;	/* kept for broker restarts */
	int			 pr_broker_only;
	struct vmstates		 pr_vms;
	struct artifactrefs	 pr_artifacts;
	struct ctlconn		*pr_client;	/* waiting for a result */
	uint32_t		 pr_flags;	/* the request's CTL_UP_* */
	int			 pr_stopping;
	int			 pr_closing;	/* the broker lets go */
	int			 pr_failed;
	char			 pr_error[CTL_TEXT_MAX];
	int64_t			 pr_up_at_ms;
	struct event		 pr_wait_ev;	/* --wait deadline */
};
TAILQ_HEAD(projects, project);

/* An upload in progress on a control connection. */
struct ctlupload {
	struct ctl_project	 cu_project;
	int			 cu_rootfd;
	struct ctl_image	*cu_images;
	int			*cu_imagefds;
	uint32_t		 cu_nimages;
	struct ctl_vm		*cu_vms;
	int			*cu_vmfds;	/* bootstrap tars, or -1 */
	uint32_t		 cu_nvms;
};

extern struct projects	 projects;
extern uid_t		 castra_uid;	/* _castra when root, else us */
extern gid_t		 castra_gid;

/* castrad.c */
int64_t		 now_ms(void);
uint32_t	 env_seconds(const char *);
void		 hex_encode(const void *, size_t, char *, size_t);

/* control.c */
int		 control_init(const char *, int);
void		 control_event(struct ctlconn *, uint32_t, const char *,
		    uint64_t, uint64_t, uint64_t, const char *, ...)
		    __attribute__((__format__ (printf, 7, 8)));
void		 control_result(struct ctlconn *, int, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
void		 control_forget(struct ctlconn *);
uid_t		 control_uid(struct ctlconn *);

/* project.c */
void		 project_up(struct ctlconn *, struct ctlupload *,
		    const struct ctl_request *);
void		 project_down(struct ctlconn *, struct ctlupload *,
		    const struct ctl_request *);
void		 project_client_gone(struct ctlconn *);
int		 project_adopt(struct ctl_project *, uid_t, int,
		    struct vmstates *, int);
int		 project_dispatch_broker(struct proc *, struct imsg *);
int		 project_dispatch_vmm(struct proc *, struct imsg *);
void		 project_broker_started(struct proc *);
void		 project_vmm_started(struct proc *);

/* record.c */
int		 record_alive(int, const char *);
int		 record_tail(int, const char *, int, char *, size_t);
int		 record_same_dir(int, int);
void		 record_keep(struct project *);
void		 record_forget(struct project *);
void		 project_adopt_all(const char *);

/* systemd.c */
#define SD_CONTROL_NAME		"control"	/* castrad.socket's */
void		 sd_init(void);
void		 sd_ready(void);
void		 sd_stopping(void);
int		 sd_take(const char *);
void		 sd_store(const char *, int);
void		 sd_unstore(const char *);
void		 sd_drop_rest(void);

#endif /* CASTRAD_H */
