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

struct bootstrap_set;

int	bootstrap_resolve(struct castra *, const struct castra_up_options *,
	    struct bootstrap_set **, struct castra_error *);
int	bootstrap_plan(struct bootstrap_set *, castra_event_fn *, void *,
	    struct castra_error *);
int	bootstrap_pending(const struct bootstrap_set *);
int	bootstrap_run(struct bootstrap_set *, castra_event_fn *, void *,
	    struct castra_error *);
void	bootstrap_free(struct bootstrap_set *);

#endif /* CASTRA_BOOTSTRAP_H */
