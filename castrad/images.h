/*
 * castrad's side of the image cache: requests to castra-imgd and their
 * answers.
 */

#ifndef CASTRAD_IMAGES_H
#define CASTRAD_IMAGES_H

#include <stddef.h>

#include "proc.h"
#include "proto.h"

void	images_init(void);
int	images_dispatch(struct proc *, struct imsg *);
void	images_started(struct proc *);
int	images_request(const struct ctl_artifact *, int,
	    void (*)(void *, const struct img_progress *),
	    void (*)(void *, const char *, const char *), void *);
void	images_cancel(void *);
int	images_path(const char *, char *, size_t);
void	images_hold(const char *, void *);
struct ctlconn;
int	images_control(struct ctlconn *, struct imsg *);

#endif /* CASTRAD_IMAGES_H */
