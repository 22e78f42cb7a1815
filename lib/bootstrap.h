/*
 * The bootstrap pipeline of castra up (bootstrap.c): which VMs run
 * their bootstrap and why, the plan, the run over the agent or ssh,
 * and the run logs; and the tar that carries a bootstrap directory
 * (bootstrap_tar.c).  Internal to libcastra.
 */

#ifndef CASTRA_BOOTSTRAP_H
#define CASTRA_BOOTSTRAP_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "castra.h"

#define BOOTSTRAP_TAR_MAX	(64 * 1024 * 1024)
#define BOOTSTRAP_LOGDIR	"logs/bootstrap"

struct bootstrap_tar {
	unsigned char	*bt_buf;
	size_t		 bt_len;
	size_t		 bt_cap;
	size_t		 bt_files;
	uint64_t	 bt_bytes;	/* of file contents */
	char		 bt_failed[PATH_MAX];	/* the entry at fault */
};

int	bootstrap_tar_make(struct bootstrap_tar *, const char *);
void	bootstrap_tar_free(struct bootstrap_tar *);

#define BOOTSTRAP_TAIL_MAX	4096
#define BOOTSTRAP_TAIL_LINES	10
#define BOOTSTRAP_LINE_MAX	128

/* bootstrap_out.c: what the guest says, kept and made safe to show */
struct bootstrap_out {
	char		 bo_tail[BOOTSTRAP_TAIL_MAX];	/* the last bytes */
	size_t		 bo_taillen;
	char		 bo_line[BOOTSTRAP_LINE_MAX];	/* the current */
	size_t		 bo_linelen;
	int		 bo_linelong;
	int		 bo_noop;	/* a "Castra:noop" line was seen */
};

struct bootstrap_reply {
	enum castra_step_status	 br_status;
	struct bootstrap_out	 br_out;	/* output_tail */
	struct bootstrap_out	 br_detail;
};

void	bootstrap_out_reset(struct bootstrap_out *);
void	bootstrap_out_feed(struct bootstrap_out *, const char *, size_t);
void	bootstrap_out_tail(const struct bootstrap_out *, char *, size_t);
int	bootstrap_reply_parse(const char *, size_t, const char *,
	    const char *, struct bootstrap_reply *);

struct bootstrap_set;
struct ctl_vm;

int	bootstrap_resolve(struct castra *, const struct castra_up_options *,
	    struct bootstrap_set **, struct castra_error *);
int	bootstrap_plan(struct bootstrap_set *, castra_event_fn *, void *,
	    struct castra_error *);
int	bootstrap_tarfds(struct bootstrap_set *, const struct ctl_vm *,
	    uint32_t, int **, struct castra_error *);
int	bootstrap_pending(const struct bootstrap_set *);
int	bootstrap_run(struct bootstrap_set *, castra_event_fn *, void *,
	    struct castra_error *);
void	bootstrap_free(struct bootstrap_set *);

#endif /* CASTRA_BOOTSTRAP_H */
