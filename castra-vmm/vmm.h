/*
 * castra-vmm(8): overlays, QEMU processes, QMP and shutdown.
 */

#ifndef CASTRA_VMM_H
#define CASTRA_VMM_H

#include <sys/queue.h>
#include <sys/types.h>

#include <event.h>
#include <stdint.h>

#include "proto.h"

#define VMM_QEMU		"/usr/bin/qemu-system-x86_64"
#define VMM_QEMU_IMG		"/usr/bin/qemu-img"
#define VMM_ARGV_MAX		96
#define VMM_ARG_MAX		(CTL_CMDLINE_MAX + 16)
#define VMM_QMP_BUF		8192
#define VMM_TAIL_LINES		8

/*
 * What castra-vmm opens below the state root for QEMU, which gets them
 * as descriptors and opens nothing there by name (see qemu.c).  QEMU
 * finds each on QEMU_FD_BASE plus its index; the log is its standard
 * output and error instead.
 */
enum qemu_fd {
	QEMU_FD_DISK,		/* overlays/<vm>.qcow2, read-write */
	QEMU_FD_DISK_RO,	/* the same file read-only, for QEMU's probe */
	QEMU_FD_SERIAL,		/* logs/<vm>-serial.log */
	QEMU_FD_QMP,		/* run/<vm>.qmp, listening */
	QEMU_FD_TOKEN,		/* run/<vm>.token */
	QEMU_FD_BOOTSTRAP,	/* run/<vm>-bootstrap.tar */
	QEMU_FD_LOG,		/* logs/<vm>.log */
	QEMU_NFDS
};
#define QEMU_FD_BASE		4	/* 3 carries an exec failure */

enum vm_state {
	VM_ST_STARTING,
	VM_ST_RUNNING,
	VM_ST_STOPPING,
	VM_ST_STOPPED,
	VM_ST_ERROR
};

/* Where a stop is in its escalation. */
enum vm_stop_step {
	VM_STOP_NONE,
	VM_STOP_GRACEFUL,
	VM_STOP_SIGTERM,
	VM_STOP_SIGKILL
};

/* What a line from QEMU is. */
#define QMP_MSG_GREETING	1
#define QMP_MSG_RETURN		2
#define QMP_MSG_ERROR		3
#define QMP_MSG_EVENT		4

enum qmp_state {
	QMP_CLOSED,
	QMP_CONNECTING,		/* waiting for the socket to appear */
	QMP_GREETING,		/* connected, greeting not read yet */
	QMP_CAPABILITIES,	/* qmp_capabilities sent */
	QMP_READY
};

struct qmp {
	enum qmp_state	 q_state;
	int		 q_fd;
	struct event	 q_ev;
	char		 q_in[VMM_QMP_BUF];
	size_t		 q_inlen;
	char		 q_out[VMM_QMP_BUF];
	size_t		 q_outlen;
	void		(*q_ready)(void *);	/* capabilities accepted */
	void		*q_arg;
};

struct vmm_guest {
	TAILQ_ENTRY(vmm_guest)	 vm_entry;
	char		 vm_project[PROJECT_ID_MAX];
	char		 vm_name[VM_NAME_MAX];
	int		 vm_dirfd;		/* the project's state root */
	enum vm_state	 vm_state;
	pid_t		 vm_pid;
	uint64_t	 vm_starttime;
	int		 vm_pidfd;
	struct event	 vm_pidev;
	char		*vm_argv[VMM_ARGV_MAX];
	int		 vm_argc;
	char		 vm_accel[8];
	uint32_t	 vm_cpus;
	uint32_t	 vm_memory_mib;
	uint32_t	 vm_nforwards;
	struct ctl_forward vm_forwards[CONFIG_FORWARDS_MAX];
	int64_t		 vm_up_at_ms;
	int64_t		 vm_launched_at_ms;
	int64_t		 vm_handshake_at_ms;	/* 0: none since launch */
	int		 vm_answered;		/* start answered */
	int		 vm_adopted;

	struct qmp	 vm_qmp;
	struct event	 vm_timer;		/* launch and stop deadlines */
	int64_t		 vm_deadline_ms;

	enum vm_stop_step vm_stop;
	int64_t		 vm_stop_at_ms;
	int64_t		 vm_step_at_ms;
	uint32_t	 vm_wait[3];		/* graceful, sigterm, sigkill */
	int		 vm_bootstrap;		/* run/<vm>-bootstrap.tar */
	int		 vm_qemufds[QEMU_NFDS];	/* until QEMU runs, else -1 */
};
TAILQ_HEAD(guestlist, vmm_guest);

/* vmm.c */
extern struct guestlist	 guests;
int64_t		 vmm_now_ms(void);
int		 vmm_read_start(const void *, size_t, struct vmm_start *);
int		 vmm_read_stop(const void *, size_t, struct vmm_stop *);
int		 vmm_read_vm(const void *, size_t, struct vmm_vm *);
int		 vmm_read_bootstrap(const void *, size_t,
		    struct vmm_bootstrap *);

/* accel.c */
#define ACCEL_PROBE_DEADLINE_MS	250
const char	*accel_probe(char *, size_t);
int		 accel_write(const char *, const char *, const char *);

/* overlay.c */
int		 overlay_create(int, const char *, const char *, int *,
		    char *, size_t);
int		 overlay_remove(int, const char *, uint64_t *);
int		 overlay_path(char *, size_t, const char *);

/* qemu.c */
int		 qemu_argv(struct vmm_guest *, const struct vmm_start *,
		    const char *);
void		 qemu_argv_free(struct vmm_guest *);
pid_t		 qemu_launch(struct vmm_guest *, char *, size_t);
int		 qemu_create(struct vmm_guest *, enum qemu_fd, const char *);
void		 qemu_fds_close(struct vmm_guest *);
int		 qemu_identity(pid_t, uint64_t, char *const *, int);
int		 qemu_starttime(pid_t, uint64_t *);
int		 qemu_parse_stat(const char *, size_t, uint64_t *);
int		 qemu_tail(int, const char *, char *, size_t);
int		 qemu_write_bootstrap(int, const char *, int);
int		 qemu_write_token(int, const char *, const char *);
void		 qemu_remove_run(int, const char *);

/* stray.c */
int		 stray_find(int, const char *, struct vmm_guest *);
int		 stray_parse(const char *, size_t, const char *,
		    struct vmm_guest *);

/* record.c */
int		 record_write(struct vmm_guest *);
int		 record_read(int, const char *, struct vmm_guest *);
int		 record_parse(const char *, size_t, struct vmm_guest *);
const char	*record_state_name(enum vm_state);

/* qmp.c */
void		 qmp_init(struct qmp *, void (*)(void *), void *);
int		 qmp_listen(int, const char *);
int		 qmp_connect(struct qmp *, int, const char *);
int		 qmp_send(struct qmp *, const char *);
void		 qmp_close(struct qmp *);
int		 qmp_parse_line(const char *, size_t, int *);

#endif /* CASTRA_VMM_H */
