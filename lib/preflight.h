/*
 * Host checks before `castra up`.
 */

#ifndef CASTRA_PREFLIGHT_H
#define CASTRA_PREFLIGHT_H

#include "castra.h"

int	preflight_up(struct castra *, int, castra_event_fn *, void *,
	    struct castra_error *);
int	preflight_running(struct castra *);

#endif /* CASTRA_PREFLIGHT_H */
