/*
 * A project's state root and the files in it: where it lives, how its
 * records are written and read, and whether a recorded process is
 * still the one that was recorded.  Internal to libcastra and the
 * daemons; castra(1) sees it only through castra.h.
 *
 * The state root SR is $CASTRA_HOME/projects/<slug>-<hash>, or the
 * project's "state" directory when castra.conf sets one.  <slug> is
 * the project name in lower case with every other byte turned into
 * '-' (at most 32 bytes); <hash> is the first 16 hex digits of the
 * SHA-256 of the project file's canonical directory, so every spelling
 * of the path finds the same root.  "<slug>-<hash>" is also the
 * project id that castra sends to castrad.
 *
 * The files under SR, who writes them, and what they hold.  Every
 * .json file is one compact object, replaced atomically
 * (state_write_json); times are Unix milliseconds unless the name
 * says otherwise.  Readers trust none of them (state_read_json).
 *
 *   project.json	castrad: {"name","config","broker_port","owner_uid"}
 *   broker.json	castrad: {"pid","start_time","port",
 *			"state":"listening"}; start_time is field 22 of
 *			the broker's /proc/PID/stat (proc_starttime)
 *   token		castra up: the host-session secret, mode 0600
 *   vms/<vm>.json	castra-vmm: {"name","pid","start_time","argv":[...],
 *			"accel":"tcg"|"kvm","overlay","qmp","cpus",
 *			"memory_mib","forwards":[{"proto","bind","host",
 *			"guest"}],"state":"starting"|"running"|"stopping"|
 *			"stopped"|"error","up_at_ms","launched_at_ms",
 *			"first_handshake_at_ms"}
 *   overlays/<vm>.qcow2	castra-vmm: the VM's writable layer
 *   run/		castra-vmm: QMP sockets and other runtime files
 *   handshakes/<vm>.json	castra-broker, granted guest handshakes only:
 *			{"vm","timestamp" (seconds),"timestamp_ms",
 *			"remote_addr","capabilities":[...],"session",
 *			"bus":{"topics":[...],"last_heartbeat_ms"}}
 *   handshakes/handshake-events.jsonl, handshakes/bus-events.jsonl
 *			castra-broker: one JSON event per line, appended;
 *			status never reads them
 *   logs/broker.log, logs/<vm>.log, logs/<vm>-serial.log,
 *			logs/bus/<vm>.log, logs/bus/bus.log
 */

#ifndef CASTRA_STATE_H
#define CASTRA_STATE_H

#include <sys/types.h>

#include <limits.h>
#include <stdint.h>

#include <jansson.h>

#include "castra.h"
#include "config.h"

#define STATE_HOME_DEFAULT	".castra"	/* under $HOME */
#define STATE_HOME_SYSTEM	"/var/lib/castra"	/* root, services */
#define STATE_SLUG_MAX		32
#define STATE_HASH_LEN		16
#define STATE_ID_MAX		(STATE_SLUG_MAX + 1 + STATE_HASH_LEN + 1)
#define STATE_JSON_MAX		(1024 * 1024)	/* largest record read */
#define STATE_FRESH_MS		45000	/* a handshake this old is fresh */

#define STATE_PROJECT		"project.json"
#define STATE_BROKER		"broker.json"
#define STATE_TOKEN		"token"
#define STATE_VMS		"vms"
#define STATE_OVERLAYS		"overlays"
#define STATE_RUN		"run"
#define STATE_HANDSHAKES	"handshakes"
#define STATE_LOGS		"logs"
#define STATE_LOGS_BUS		"logs/bus"
#define STATE_BROKER_LOG	"logs/broker.log"
#define STATE_HANDSHAKE_EVENTS	"handshakes/handshake-events.jsonl"
#define STATE_BUS_EVENTS	"handshakes/bus-events.jsonl"

/* An open project: what castra_open() returns. */
struct castra {
	struct config		*c_cfg;
	char			 c_config[PATH_MAX];	/* canonical */
	char			 c_root[PATH_MAX];	/* state root */
	char			 c_id[STATE_ID_MAX];	/* <slug>-<hash> */
};

/* state.c */
int		 state_home(char *, size_t);
int		 state_project_id(const struct config *, char *, size_t);
int		 state_root(const struct config *, char *, size_t);
int		 state_mkdirs(const char *);
int		 state_mkpath(const char *);
int		 state_write_all(int, const void *, size_t);
int		 state_write_json(int, const char *, json_t *, mode_t);
int		 state_read_json(int, const char *, json_t **);
int		 state_read_json_err(int, const char *, json_t **, char *,
		    size_t);
uint64_t	 proc_starttime(pid_t);
int		 proc_stat_parse(const char *, size_t, char *, uint64_t *);
int		 state_pid_matches(pid_t, uint64_t);
int64_t		 state_now_ms(void);
int64_t		 state_age_ms(int64_t, int64_t);
int		 state_fresh(int64_t);

/* beneath.c */
int		 beneath_open(int, const char *, int, mode_t);
int		 beneath_dir(int, const char *, const char **);
int		 beneath_create(int, const char *, int, mode_t);
int		 beneath_unlink(int, const char *);
int		 beneath_rename(int, const char *, const char *);
int		 beneath_mkdir(int, const char *, mode_t);

/* logs.c */
off_t		 logs_tail_start(int, off_t, size_t);

/* project.c */
void		 castra_seterr(struct castra_error *, int, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));

#endif /* CASTRA_STATE_H */
