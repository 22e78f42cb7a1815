/*
 * castrad's side of the image cache.  Requests go to castra-imgd with
 * an id; its progress and its answer come back under that id.  Until
 * the answer, castrad keeps each request (and a copy of a local file's
 * descriptor), so that a restarted imgd gets every one of them again.
 *
 * An image that a project was given is held in imgd's eyes, so that
 * prune spares it, until the project lets go (images_cancel).
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "castra.h"
#include "castrad.h"
#include "images.h"
#include "imgmeta.h"
#include "log.h"
#include "proc.h"
#include "proto.h"

struct imgreq {
	TAILQ_ENTRY(imgreq)	 iq_entry;
	uint32_t		 iq_id;
	uint32_t		 iq_type;	/* what went to imgd */
	struct ctl_artifact	 iq_art;
	struct img_remove	 iq_remove;
	int			 iq_fd;		/* ours; imgd gets a dup */
	int			 iq_hold;	/* hold what it answers */
	void			(*iq_progress)(void *,
				    const struct img_progress *);
	void			(*iq_done)(void *, const char *,
				    const char *);
	void			(*iq_removed)(void *,
				    const struct img_removed *);
	void			*iq_arg;
};
static TAILQ_HEAD(, imgreq)	 imgreqs = TAILQ_HEAD_INITIALIZER(imgreqs);

/* An image a project uses, by the callback arg of its request. */
struct imghold {
	TAILQ_ENTRY(imghold)	 ih_entry;
	char			 ih_sha256[SHA256_HEX_LEN + 1];
	void			*ih_arg;
};
static TAILQ_HEAD(, imghold)	 imgholds = TAILQ_HEAD_INITIALIZER(imgholds);

static uint32_t		 images_nextid = 1;

void
images_init(void)
{
	TAILQ_INIT(&imgreqs);
	TAILQ_INIT(&imgholds);
}

static void
images_send(struct imgreq *iq)
{
	struct img_request	 ir;
	int			 fd = -1;

	if (iq->iq_type == IMSG_IMG_REMOVE_REQUEST) {
		proc_compose(PROC_IMGD, iq->iq_type, 0, -1, &iq->iq_remove,
		    sizeof(iq->iq_remove));
		return;
	}
	memset(&ir, 0, sizeof(ir));
	ir.ir_id = iq->iq_id;
	ir.ir_artifact = iq->iq_art;
	if (iq->iq_fd != -1 && (fd = dup(iq->iq_fd)) == -1) {
		log_warn("%s: dup", __func__);
		return;
	}
	/* If imgd is down, images_started() sends it again. */
	if (proc_compose(PROC_IMGD, IMSG_IMG_FETCH_REQUEST, 0, fd, &ir,
	    sizeof(ir)) == -1)
		log_debug("%s: request %u waits for castra-imgd", __func__,
		    iq->iq_id);
}

static struct imgreq *
images_new(void *arg)
{
	struct imgreq	*iq;

	if ((iq = calloc(1, sizeof(*iq))) == NULL)
		return (NULL);
	iq->iq_id = images_nextid++;
	if (images_nextid == 0)
		images_nextid = 1;
	iq->iq_fd = -1;
	iq->iq_arg = arg;
	TAILQ_INSERT_TAIL(&imgreqs, iq, iq_entry);
	return (iq);
}

static void
images_free(struct imgreq *iq)
{
	TAILQ_REMOVE(&imgreqs, iq, iq_entry);
	if (iq->iq_fd != -1)
		close(iq->iq_fd);
	free(iq);
}

static int
images_submit(const struct ctl_artifact *ca, int fd, int hold,
    void (*progress)(void *, const struct img_progress *),
    void (*done)(void *, const char *, const char *), void *arg)
{
	struct imgreq	*iq;

	if (fd == -1 && ca->ca_nurls == 0 && ca->ca_sha256[0] == '\0' &&
	    ca->ca_sha512[0] == '\0') {
		errno = EINVAL;
		return (-1);
	}
	if ((iq = images_new(arg)) == NULL) {
		if (fd != -1)
			close(fd);
		return (-1);
	}
	iq->iq_type = IMSG_IMG_FETCH_REQUEST;
	iq->iq_art = *ca;
	iq->iq_fd = fd;
	iq->iq_hold = hold;
	iq->iq_progress = progress;
	iq->iq_done = done;
	images_send(iq);
	return (0);
}

/*
 * Ask for an artifact, or (fd not -1) import the file behind fd, which
 * images_request then owns.  progress may be NULL; done gets the sha256
 * or an error, once, unless images_cancel(arg) comes first.  The image
 * stays held for arg until images_cancel(arg).
 */
int
images_request(const struct ctl_artifact *ca, int fd,
    void (*progress)(void *, const struct img_progress *),
    void (*done)(void *, const char *, const char *), void *arg)
{
	return (images_submit(ca, fd, 1, progress, done, arg));
}

static void
images_hold_send(uint32_t type, const char *sha256)
{
	struct img_hold	 ih;

	memset(&ih, 0, sizeof(ih));
	strlcpy(ih.ih_sha256, sha256, sizeof(ih.ih_sha256));
	proc_compose(PROC_IMGD, type, 0, -1, &ih, sizeof(ih));
}

/* Tell imgd that a project (arg) uses an image, e.g. an adopted VM's. */
void
images_hold(const char *sha256, void *arg)
{
	struct imghold	*ih;

	if (!imgmeta_hex_valid(sha256, SHA256_HEX_LEN) ||
	    (ih = calloc(1, sizeof(*ih))) == NULL)
		return;
	strlcpy(ih->ih_sha256, sha256, sizeof(ih->ih_sha256));
	ih->ih_arg = arg;
	TAILQ_INSERT_TAIL(&imgholds, ih, ih_entry);
	images_hold_send(IMSG_IMG_HOLD, sha256);
}

/* Forget every request and hold of arg; no callback runs for it again. */
void
images_cancel(void *arg)
{
	struct imgreq	*iq, *iqn;
	struct imghold	*ih, *ihn;

	TAILQ_FOREACH_SAFE(iq, &imgreqs, iq_entry, iqn)
		if (iq->iq_arg == arg)
			images_free(iq);
	TAILQ_FOREACH_SAFE(ih, &imgholds, ih_entry, ihn)
		if (ih->ih_arg == arg) {
			images_hold_send(IMSG_IMG_RELEASE, ih->ih_sha256);
			TAILQ_REMOVE(&imgholds, ih, ih_entry);
			free(ih);
		}
}

/* Where a cached image is, for vmm; -1 if sha256 is no digest. */
int
images_path(const char *sha256, char *buf, size_t len)
{
	int	 n;

	if (!imgmeta_hex_valid(sha256, SHA256_HEX_LEN)) {
		errno = EINVAL;
		return (-1);
	}
	n = snprintf(buf, len, "%s/images/sha256/%s", proc_env.pe_home,
	    sha256);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	return (0);
}

static uint32_t
images_env(const char *name, uint32_t max)
{
	const char	*s;

	if ((s = getenv(name)) == NULL || *s == '\0')
		return (0);
	return (strtonum(s, 1, max, NULL));
}

/* imgd (re)started: its settings, the holds, then what is pending. */
void
images_started(struct proc *p)
{
	struct img_config	 ic;
	struct imgreq		*iq;
	struct imghold		*ih;

	memset(&ic, 0, sizeof(ic));
	ic.ic_connect_timeout = images_env("CASTRA_IMGD_CONNECT_TIMEOUT",
	    IMG_TIMEOUT_MAX);
	ic.ic_stall_timeout = images_env("CASTRA_IMGD_STALL_TIMEOUT",
	    IMG_TIMEOUT_MAX);
	ic.ic_retries = images_env("CASTRA_IMGD_RETRIES", IMG_RETRIES_MAX);
	ic.ic_backoff_ms = images_env("CASTRA_IMGD_BACKOFF_MS",
	    IMG_BACKOFF_MAX_MS);
	proc_compose(PROC_IMGD, IMSG_IMG_CONFIG, 0, -1, &ic, sizeof(ic));
	TAILQ_FOREACH(ih, &imgholds, ih_entry)
		images_hold_send(IMSG_IMG_HOLD, ih->ih_sha256);
	TAILQ_FOREACH(iq, &imgreqs, iq_entry)
		images_send(iq);
}

static struct imgreq *
images_find(uint32_t id)
{
	struct imgreq	*iq;

	TAILQ_FOREACH(iq, &imgreqs, iq_entry)
		if (iq->iq_id == id)
			return (iq);
	return (NULL);
}

static int
images_progress(struct imsg *imsg)
{
	struct img_progress	 ip;
	struct imgreq		*iq;

	if (proto_read_img_progress(imsg, &ip) == -1)
		return (-1);
	if ((iq = images_find(ip.ip_id)) != NULL && iq->iq_progress != NULL)
		iq->iq_progress(iq->iq_arg, &ip);
	return (0);
}

static int
images_ready(struct imsg *imsg)
{
	struct img_ready	 ir;
	struct imgreq		*iq;
	void			(*done)(void *, const char *, const char *);
	void			*arg;

	if (proto_read_img_ready(imsg, &ir) == -1)
		return (-1);
	/* Already cancelled: nobody waits. */
	if ((iq = images_find(ir.ir_id)) == NULL ||
	    iq->iq_type != IMSG_IMG_FETCH_REQUEST)
		return (0);
	done = iq->iq_done;
	arg = iq->iq_arg;
	if (iq->iq_hold)
		images_hold(ir.ir_sha256, arg);
	images_free(iq);
	done(arg, ir.ir_sha256, NULL);
	return (0);
}

static int
images_failed(struct imsg *imsg)
{
	struct img_fail		 fl;
	struct imgreq		*iq;
	void			(*done)(void *, const char *, const char *);
	void			*arg;

	if (proto_read_img_fail(imsg, &fl) == -1)
		return (-1);
	if ((iq = images_find(fl.if_id)) == NULL ||
	    iq->iq_type != IMSG_IMG_FETCH_REQUEST)
		return (0);
	done = iq->iq_done;
	arg = iq->iq_arg;
	images_free(iq);
	done(arg, NULL, fl.if_message);
	return (0);
}

static int
images_removed(struct imsg *imsg)
{
	struct img_removed	 rd;
	struct imgreq		*iq;
	void			(*removed)(void *, const struct img_removed *);
	void			*arg;

	if (proto_read_img_removed(imsg, &rd) == -1)
		return (-1);
	if ((iq = images_find(rd.id_id)) == NULL ||
	    iq->iq_type != IMSG_IMG_REMOVE_REQUEST)
		return (0);
	removed = iq->iq_removed;
	arg = iq->iq_arg;
	images_free(iq);
	removed(arg, &rd);
	return (0);
}

/* A message from castra-imgd; -1 if it makes no sense. */
int
images_dispatch(struct proc *p, struct imsg *imsg)
{
	switch (imsg_get_type(imsg)) {
	case IMSG_IMG_PROGRESS_EVENT:
		return (images_progress(imsg));
	case IMSG_IMG_READY_RESPONSE:
		return (images_ready(imsg));
	case IMSG_IMG_FAIL_RESPONSE:
		return (images_failed(imsg));
	case IMSG_IMG_REMOVE_RESPONSE:
		return (images_removed(imsg));
	default:
		return (-1);
	}
}

/* castra image pull and import: progress and the answer to the client. */
static void
images_ctl_progress(void *arg, const struct img_progress *ip)
{
	control_event(arg, CASTRA_EV_IMAGE_PROGRESS, NULL, ip->ip_done,
	    ip->ip_total, 0, "%s", ip->ip_url);
}

static void
images_ctl_done(void *arg, const char *sha256, const char *error)
{
	if (error != NULL) {
		control_result(arg, 69, "%s", error);
		return;
	}
	control_event(arg, CASTRA_EV_IMAGE_READY, NULL, 0, 0, 0, "%s",
	    sha256);
	control_result(arg, 0, "%s", sha256);
}

static void
images_ctl_removed(void *arg, const struct img_removed *rd)
{
	if (rd->id_message[0] != '\0') {
		control_result(arg, rd->id_held ? 75 : 66, "%s",
		    rd->id_message);
		return;
	}
	if (rd->id_held > 0)
		control_event(arg, CASTRA_EV_WARNING, NULL, 0, 0, 0,
		    "%u image%s spared: a running VM uses %s", rd->id_held,
		    rd->id_held == 1 ? "" : "s",
		    rd->id_held == 1 ? "it" : "them");
	control_event(arg, CASTRA_EV_MESSAGE, NULL, 0, 0, 0,
	    "removed %u image%s, %llu bytes", rd->id_count,
	    rd->id_count == 1 ? "" : "s", (unsigned long long)rd->id_bytes);
	control_result(arg, 0, "removed %u image%s", rd->id_count,
	    rd->id_count == 1 ? "" : "s");
}

static int
images_ctl_remove(struct ctlconn *cc, struct imsg *imsg)
{
	struct ctl_image_remove	 cx;
	struct imgreq		*iq;
	uid_t			 uid = control_uid(cc);

	if (proto_read_image_remove(imsg, &cx) == -1)
		return (-1);
	/* The cache is shared: only its owner empties it. */
	if (uid != 0 && uid != getuid()) {
		control_result(cc, 77, "only root removes images from the "
		    "shared cache");
		return (0);
	}
	if ((iq = images_new(cc)) == NULL)
		fatal("%s", __func__);
	iq->iq_type = IMSG_IMG_REMOVE_REQUEST;
	iq->iq_remove.im_id = iq->iq_id;
	strlcpy(iq->iq_remove.im_sha256, cx.cx_sha256,
	    sizeof(iq->iq_remove.im_sha256));
	iq->iq_remove.im_age = cx.cx_age;
	iq->iq_remove.im_size = cx.cx_size;
	iq->iq_removed = images_ctl_removed;
	images_send(iq);
	return (0);
}

/*
 * IMSG_CTL_IMAGE_PULL, _IMPORT and _REMOVE from castra.  The answer
 * goes to cc as events and one result; the caller calls
 * images_cancel(cc) when the connection closes.  -1: a bad message.
 */
int
images_control(struct ctlconn *cc, struct imsg *imsg)
{
	struct ctl_image	 ci;
	uint32_t		 type = imsg_get_type(imsg);
	int			 fd = -1;

	if (type == IMSG_CTL_IMAGE_REMOVE)
		return (images_ctl_remove(cc, imsg));
	if (type == IMSG_CTL_IMAGE_IMPORT)
		fd = imsg_get_fd(imsg);
	if ((type != IMSG_CTL_IMAGE_PULL && type != IMSG_CTL_IMAGE_IMPORT) ||
	    proto_read_image(imsg, &ci) == -1 ||
	    (type == IMSG_CTL_IMAGE_PULL && ci.ci_artifact.ca_nurls == 0) ||
	    (type == IMSG_CTL_IMAGE_IMPORT && (fd == -1 ||
	    ci.ci_artifact.ca_nurls != 0))) {
		if (fd != -1)
			close(fd);
		return (-1);
	}
	if (images_submit(&ci.ci_artifact, fd, 0, images_ctl_progress,
	    images_ctl_done, cc) == -1)
		control_result(cc, 65, "image %s: %s", ci.ci_name,
		    strerror(errno));
	return (0);
}
