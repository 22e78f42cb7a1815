/*
 * libcastra: the operations of castra(1) for programs that embed them.
 * See libcastra(3) and docs/library_usage.md.
 *
 * Every operation takes an options struct (zero it, then set what you
 * need), an optional event callback that is called as progress happens,
 * and a struct castra_error that says what went wrong and what to do.
 * Operations return 0 on success and -1 on failure.
 */

#ifndef CASTRA_H
#define CASTRA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CASTRA_API	__attribute__((__visibility__("default")))

struct castra;				/* an open project */

struct castra_error {
	int		 ce_code;	/* a sysexits(3) code, 0: none */
	char		 ce_message[1024];
};

enum castra_event_type {
	CASTRA_EV_MESSAGE,		/* ev_text */
	CASTRA_EV_WARNING,		/* ev_text */
	CASTRA_EV_IMAGE_PROGRESS,	/* ev_done of ev_total bytes */
	CASTRA_EV_IMAGE_READY,		/* ev_text: sha256 */
	CASTRA_EV_BROKER_STARTED,	/* ev_num: port */
	CASTRA_EV_OVERLAY_PREPARED,	/* ev_vm */
	CASTRA_EV_VM_LAUNCHED,		/* ev_vm, ev_num: pid, ev_text: accel */
	CASTRA_EV_VM_REACHABLE,		/* ev_vm, ev_ms: since launch */
	CASTRA_EV_SHUTDOWN_REQUESTED,	/* ev_vm */
	CASTRA_EV_COOPERATIVE_ATTEMPTED, /* ev_vm, ev_ms: timeout */
	CASTRA_EV_COOPERATIVE_SUCCEEDED, /* ev_vm, ev_ms: elapsed */
	CASTRA_EV_COOPERATIVE_TIMED_OUT, /* ev_vm, ev_ms: waited */
	CASTRA_EV_SHUTDOWN_ESCALATED,	/* ev_vm, ev_text: signal */
	CASTRA_EV_SHUTDOWN_COMPLETE,	/* ev_vm, ev_ms: total */
	CASTRA_EV_OVERLAY_DISCARDED,	/* ev_vm, ev_num: bytes */
	CASTRA_EV_BOOTSTRAP_STARTED,	/* ev_vm */
	CASTRA_EV_BOOTSTRAP_STEP,	/* ev_vm, ev_text: step, ev_ms */
	CASTRA_EV_BOOTSTRAP_COMPLETED,	/* ev_vm, ev_ms */
	CASTRA_EV_BOOTSTRAP_FAILED,	/* ev_vm, ev_text, ev_ms */
	CASTRA_EV_BOOTSTRAP_PLANNED,	/* ev_vm, ev_text: lines, ev_num */
	CASTRA_EV_MAX
};

struct castra_event {
	enum castra_event_type	 ev_type;
	const char		*ev_vm;		/* "" when not about a VM */
	const char		*ev_text;	/* "" when there is none */
	uint64_t		 ev_num;
	uint64_t		 ev_done;
	uint64_t		 ev_total;
	uint64_t		 ev_ms;
	const char		*ev_detail;	/* bootstrap events; may be
						   NULL elsewhere */
};

/*
 * Bootstrap events (bootstrap.c):
 * STARTED	ev_text: "<transport> <mode>", e.g. "agent auto"
 * STEP		ev_text: the step, ev_num: a castra_step_status,
 *		ev_ms: its duration, ev_detail: what happened or ""
 * COMPLETED	ev_text: "success", "noop", or "skipped" (auto, and the
 *		guest cannot take it), ev_ms: the whole run
 * FAILED	ev_text: the error (step and output tail), ev_ms
 * PLANNED	ev_text: "would run", "would skip" or "would error",
 *		ev_detail: the plan, one "key: value" per line,
 *		ev_num: 1 for "would error"
 */
enum castra_step_status {
	CASTRA_STEP_SUCCESS,
	CASTRA_STEP_SKIPPED,
	CASTRA_STEP_FAILED
};

typedef void	castra_event_fn(const struct castra_event *, void *);

/* Opening a project */
struct castra_open_options {
	const char		*oo_config;	/* NULL: search upward */
	char *const		*oo_defines;	/* "name=value", NULL-ended */
};

CASTRA_API int	 castra_open(const struct castra_open_options *,
		    struct castra **, struct castra_error *);
CASTRA_API void	 castra_close(struct castra *);
CASTRA_API const char *castra_config_path(const struct castra *);
CASTRA_API const char *castra_project_name(const struct castra *);
CASTRA_API const char *castra_state_root(const struct castra *);
CASTRA_API const char *castra_version(void);
/* castra check: the configuration as understood, or every error */
CASTRA_API int	 castra_check(const struct castra_open_options *, char **,
		    char **, struct castra_error *);

/* castra init */
struct castra_init_options {
	const char		*io_path;	/* NULL: ./castra.conf */
	const char		*io_name;	/* NULL: the directory's name */
	int			 io_force;
};

CASTRA_API int	 castra_init(const struct castra_init_options *,
		    castra_event_fn *, void *, struct castra_error *);

/* castra up and castra down */
struct castra_up_options {
	int			 uo_broker_only;
	int			 uo_force;
	int			 uo_wait;
	const char		*uo_image;	/* local base image, or NULL */
	int			 uo_plan;	/* show the bootstrap plan,
						   contact nothing */
	const char		*uo_bootstrap;	/* auto skip always or NULL */
	char *const		*uo_bootstrap_vms; /* "vm=mode", NULL-ended */
};

struct castra_down_options {
	uint32_t		 do_wait_graceful;	/* 0: the project's */
	uint32_t		 do_wait_sigterm;
	uint32_t		 do_wait_sigkill;
};

CASTRA_API int	 castra_up(struct castra *, const struct castra_up_options *,
		    castra_event_fn *, void *, struct castra_error *);
CASTRA_API int	 castra_down(struct castra *,
		    const struct castra_down_options *, castra_event_fn *,
		    void *, struct castra_error *);

/* castra status: read from the state files alone */
struct castra_forward {
	const char		*fw_proto;	/* "tcp" or "udp" */
	const char		*fw_bind;
	uint16_t		 fw_host;
	uint16_t		 fw_guest;
};

struct castra_vm_status {
	const char		*vs_name;
	const char		*vs_state;	/* stopped starting running
						   stopping error */
	int			 vs_pid;	/* 0: none */
	uint32_t		 vs_cpus;
	uint32_t		 vs_memory_mib;
	int64_t			 vs_uptime_ms;	/* -1: not running */
	const char		*vs_broker;	/* offline waiting reachable */
	int64_t			 vs_handshake_age_ms;	/* -1: never */
	const char		*vs_accel;	/* NULL: unknown */
	const char *const	*vs_topics;	/* NULL-ended */
	int64_t			 vs_heartbeat_age_ms;	/* -1: none */
	const struct castra_forward *vs_forwards;
	size_t			 vs_nforwards;
	int64_t			 vs_launched_ms;	/* -1: unknown */
	int64_t			 vs_first_handshake_ms;	/* -1: unknown */
};

struct castra_status {
	const char		*st_project;
	const char		*st_config;
	const char		*st_state_root;
	const char		*st_broker_state;	/* listening stopped */
	int			 st_broker_pid;		/* 0: none */
	uint16_t		 st_broker_port;
	int			 st_reachable;
	const char		*st_last_handshake_vm;	/* NULL: never */
	int64_t			 st_last_handshake_age_ms; /* -1: never */
	const struct castra_vm_status *st_vms;
	size_t			 st_nvms;
	const char *const	*st_warnings;	/* NULL-ended: records
						   that were not usable */
};

CASTRA_API int	 castra_status(struct castra *, struct castra_status **,
		    struct castra_error *);
CASTRA_API char	*castra_status_json(const struct castra_status *);
CASTRA_API void	 castra_status_free(struct castra_status *);

/* castra ports: declared forwards, conflicts, and with `active` probes */
struct castra_port {
	const char		*pt_vm;
	const char		*pt_proto;	/* "tcp" or "udp" */
	const char		*pt_bind;
	uint16_t		 pt_host;
	uint16_t		 pt_guest;
	const char		*pt_status;	/* declared conflict
						   broker-reserved; active:
						   active inactive in-use
						   unknown */
	const char		*pt_detail;	/* why, or NULL */
};

struct castra_ports {
	uint16_t		 ps_broker_port;
	const char		*ps_broker_state;	/* listening stopped */
	const struct castra_port *ps_ports;
	size_t			 ps_nports;
	const char *const	*ps_unforwarded;	/* VMs without any,
							   NULL-ended */
};

CASTRA_API int	 castra_ports(struct castra *, int, struct castra_ports **,
		    struct castra_error *);
CASTRA_API void	 castra_ports_free(struct castra_ports *);

/* castra logs: tail the broker's and the VMs' logs, and follow them */
struct castra_logs_options {
	const char		*lo_source;	/* NULL: all; "broker"; a VM */
	size_t			 lo_lines;	/* per file */
	int			 lo_follow;	/* until the callback stops */
};

/* One line, without its newline, as raw bytes; return -1 to stop. */
typedef int	castra_log_fn(const char *, const char *, size_t, void *);

CASTRA_API int	 castra_logs(struct castra *,
		    const struct castra_logs_options *, castra_log_fn *,
		    void *, struct castra_error *);

/*
 * The latest bootstrap run log of each VM (vm NULL) or of one: its
 * path, then its JSON lines, each through the callback with the VM's
 * name as the source.
 */
CASTRA_API int	 castra_bootstrap_logs(struct castra *, const char *,
		    castra_log_fn *, void *, struct castra_error *);

/* castra clean: remove what a stopped project left behind */
struct castra_clean_options {
	int			 co_dry_run;
	int			 co_force;	/* even while VMs run */
	int			 co_keep_logs;
	int			 co_keep_handshakes;
};

/* Each removal is a CASTRA_EV_MESSAGE: ev_text the path, ev_num bytes. */
CASTRA_API int	 castra_clean(struct castra *,
		    const struct castra_clean_options *, castra_event_fn *,
		    void *, uint64_t *, struct castra_error *);

/*
 * castra bus: a host session on the project's broker (bus.c).  The
 * broker must be up; the session uses the project's host token.
 */
struct castra_bus;

CASTRA_API int	 castra_bus_open(struct castra *, struct castra_bus **,
		    struct castra_error *);
CASTRA_API int	 castra_bus_connect(uint16_t, const char *,
		    struct castra_bus **, struct castra_error *);
CASTRA_API void	 castra_bus_close(struct castra_bus *);
/* payload is JSON text; topic NULL: "broadcast"; the int: deliveries */
CASTRA_API int	 castra_bus_publish(struct castra_bus *, const char *,
		    const char *, int *, struct castra_error *);
CASTRA_API int	 castra_bus_subscribe(struct castra_bus *, const char *,
		    struct castra_error *);
/* 1: a message (JSON text, free it), 0: timeout (ms, -1: none), -1 */
CASTRA_API int	 castra_bus_next(struct castra_bus *, char **, int,
		    struct castra_error *);
/* The bus log (vm NULL) or a VM's: the last lines, then follow. */
CASTRA_API int	 castra_bus_tail(struct castra *, const char *, size_t,
		    int, castra_log_fn *, void *, struct castra_error *);

/*
 * castra image: the cache of images under $CASTRA_HOME/images, shared
 * by every project of a castrad.  list reads the cache directory as
 * files on disk; the others ask castrad.
 */
struct castra_image {
	char			 cim_sha256[65];
	char			 cim_sha512[129];	/* "" if unknown */
	uint64_t		 cim_size;
	char			 cim_format[16];	/* qcow2 raw "" */
	int64_t			 cim_fetched_at;	/* Unix s, 0: unknown */
	int64_t			 cim_last_used_at;
	char			 cim_url[256];	/* first url, "" if local */
};

CASTRA_API int	 castra_image_list(struct castra_image **, size_t *,
		    struct castra_error *);
CASTRA_API int	 castra_image_resolve(const char *, char *,
		    struct castra_error *);
CASTRA_API int	 castra_image_pull(struct castra *, const char *,
		    castra_event_fn *, void *, struct castra_error *);
CASTRA_API int	 castra_image_import(const char *, char *,
		    castra_event_fn *, void *, struct castra_error *);
CASTRA_API int	 castra_image_remove(const char *, castra_event_fn *,
		    void *, struct castra_error *);
CASTRA_API int	 castra_image_prune(uint64_t, uint64_t, castra_event_fn *,
		    void *, struct castra_error *);
CASTRA_API int	 castra_image_open(const char *, const char *,
		    struct castra_error *);

/* A progress display for CASTRA_EV_IMAGE_PROGRESS: a bar on a terminal. */
struct castra_progress;

CASTRA_API struct castra_progress *castra_progress_new(int);
CASTRA_API void	 castra_progress_event(struct castra_progress *,
		    const struct castra_event *);
CASTRA_API void	 castra_progress_end(struct castra_progress *);
CASTRA_API void	 castra_progress_free(struct castra_progress *);
/* An event as one line of JSON (free(3) it); see libcastra(3). */
CASTRA_API char	*castra_event_json(struct castra_progress *,
		    const struct castra_event *);

#ifdef __cplusplus
}
#endif

#endif /* CASTRA_H */
