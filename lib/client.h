/*
 * The client side of castrad's control socket, for libcastra's
 * operations that need castrad.
 */

#ifndef CASTRA_CLIENT_H
#define CASTRA_CLIENT_H

#include "castra.h"
#include "imsg.h"

struct artifact;
struct ctl_image;

struct client {
	struct imsgbuf	 cl_ibuf;
	int		 cl_fd;
};

int	client_home(char *, size_t);
int	client_open(struct client *, struct castra_error *);
int	client_send(struct client *, uint32_t, int, const void *, size_t,
	    struct castra_error *);
int	client_wait(struct client *, castra_event_fn *, void *,
	    struct castra_error *);
void	client_close(struct client *);

/* image.c: the ctl_image that asks castrad for one artifact */
void	image_artifact(struct ctl_image *, const char *, uint32_t,
	    const struct artifact *);
int	image_artifact_urls(struct ctl_image *, const struct artifact *,
	    struct castra_error *);

#endif /* CASTRA_CLIENT_H */
