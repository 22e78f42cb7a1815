/*
 * The control socket: castra(1) connects, says which protocol version
 * it speaks, describes a project and asks for something to be done.
 *
 * The peer's uid comes from the kernel (SO_PEERCRED), never from the
 * request.  Every message is read at its exact size and checked again
 * here, whatever castra checked before sending it.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "castra.h"
#include "castrad.h"
#include "images.h"
#include "log.h"
#include "proto.h"

#define CONTROL_MAX_CONNS	64
#define CONTROL_MAX_IMAGES	64
#define CONTROL_MAX_VMS		64

struct ctlconn {
	TAILQ_ENTRY(ctlconn)	 cc_entry;
	struct imsgev		 cc_iev;
	uid_t			 cc_uid;
	pid_t			 cc_pid;
	int			 cc_hello;
	int			 cc_busy;
	struct ctlupload	 cc_upload;
};
TAILQ_HEAD(, ctlconn)	 ctlconns = TAILQ_HEAD_INITIALIZER(ctlconns);

static struct event	 control_ev;
static struct event	 control_pause_ev;
static int		 control_fd = -1;
static int		 control_nconns;

static void	control_accept(int, short, void *);
static void	control_dispatch(int, short, void *);
static void	control_close(struct ctlconn *);
static int	control_evict(void);

/*
 * Listen on path, or on fd when systemd listens there for castrad
 * (castrad.socket), which keeps connections waiting while castrad
 * restarts.
 */
int
control_init(const char *path, int fd)
{
	struct sockaddr_un	 sun;
	struct group		*gr;
	mode_t			 mode = 0600;

	if (fd != -1) {
		if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1) {
			log_warn("the control socket from systemd");
			close(fd);
			return (-1);
		}
		goto listening;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		log_warnx("%s: socket path too long", path);
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_warn("socket");
		return (-1);
	}
	/* castrad.pid is locked: no other castrad can be using the path. */
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_warn("bind %s", path);
		goto fail;
	}
	/* As a service, members of the castra group may connect. */
	if (getuid() == 0 && (gr = getgrnam(CASTRAD_GROUP)) != NULL) {
		if (chown(path, 0, gr->gr_gid) == -1) {
			log_warn("chown %s", path);
			goto fail;
		}
		mode = 0660;
	}
	if (chmod(path, mode) == -1 || listen(fd, 16) == -1) {
		log_warn("%s", path);
		goto fail;
	}

 listening:
	control_fd = fd;
	event_set(&control_ev, fd, EV_READ | EV_PERSIST, control_accept,
	    NULL);
	event_add(&control_ev, NULL);
	evtimer_set(&control_pause_ev, control_accept, NULL);
	return (0);

 fail:
	close(fd);
	return (-1);
}

/*
 * Full: make room by closing the oldest connection that has not even
 * said hello.  castra says hello at once, so only a client that
 * connects and says nothing loses its place, and such clients cannot
 * keep castra out.
 */
static int
control_evict(void)
{
	struct ctlconn	*cc;

	TAILQ_FOREACH(cc, &ctlconns, cc_entry)
		if (!cc->cc_hello) {
			log_warnx("control: uid %u pid %d said nothing; "
			    "closed to make room", cc->cc_uid, cc->cc_pid);
			control_close(cc);
			return (0);
		}
	return (-1);
}

static void
control_accept(int fd, short event, void *arg)
{
	struct ctlconn	*cc;
	struct ucred	 cred;
	struct timeval	 tv = { 1, 0 };
	socklen_t	 len = sizeof(cred);
	int		 connfd;

	event_add(&control_ev, NULL);
	if ((event & EV_TIMEOUT))
		return;
	if ((connfd = accept4(control_fd, NULL, NULL,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
		/* Out of descriptors: pause rather than spin. */
		if (errno == ENFILE || errno == EMFILE) {
			event_del(&control_ev);
			evtimer_add(&control_pause_ev, &tv);
		} else if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("%s: accept", __func__);
		return;
	}
	if (control_nconns >= CONTROL_MAX_CONNS && control_evict() == -1) {
		log_warnx("control: too many connections, refusing one");
		close(connfd);
		return;
	}
	if (getsockopt(connfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control: SO_PEERCRED");
		close(connfd);
		return;
	}
	if ((cc = calloc(1, sizeof(*cc))) == NULL) {
		log_warn("%s", __func__);
		close(connfd);
		return;
	}
	cc->cc_uid = cred.uid;
	cc->cc_pid = cred.pid;
	cc->cc_upload.cu_rootfd = -1;
	imsgev_init(&cc->cc_iev, connfd, control_dispatch, cc);
	TAILQ_INSERT_TAIL(&ctlconns, cc, cc_entry);
	control_nconns++;
	log_debug("%s: uid %u pid %d connected", __func__, cred.uid,
	    cred.pid);
}

static void
upload_clear(struct ctlupload *cu)
{
	uint32_t	 i;

	if (cu->cu_rootfd != -1)
		close(cu->cu_rootfd);
	for (i = 0; i < cu->cu_nimages; i++)
		if (cu->cu_imagefds[i] != -1)
			close(cu->cu_imagefds[i]);
	for (i = 0; cu->cu_vmfds != NULL && i < cu->cu_nvms; i++)
		if (cu->cu_vmfds[i] != -1)
			close(cu->cu_vmfds[i]);
	free(cu->cu_images);
	free(cu->cu_imagefds);
	free(cu->cu_vms);
	free(cu->cu_vmfds);
	memset(cu, 0, sizeof(*cu));
	cu->cu_rootfd = -1;
}

static void
control_close(struct ctlconn *cc)
{
	project_client_gone(cc);
	images_cancel(cc);
	upload_clear(&cc->cc_upload);
	imsgev_clear(&cc->cc_iev);
	TAILQ_REMOVE(&ctlconns, cc, cc_entry);
	control_nconns--;
	free(cc);
}

void
control_forget(struct ctlconn *cc)
{
	cc->cc_busy = 0;
}

uid_t
control_uid(struct ctlconn *cc)
{
	return (cc->cc_uid);
}

static int
control_hello(struct ctlconn *cc, struct imsg *imsg)
{
	struct ctl_hello	 ch, ours;

	if (imsg_get_data(imsg, &ch, sizeof(ch)) == -1) {
		/* A castra of another version may send another size. */
		control_result(cc, 70, "castra speaks a different protocol "
		    "than castrad %s; stop that castrad and run castra "
		    "again", castra_version());
		return (0);
	}
	ch.ch_software[sizeof(ch.ch_software) - 1] = '\0';
	memset(&ours, 0, sizeof(ours));
	ours.ch_version = CASTRA_PROTO_VERSION;
	snprintf(ours.ch_software, sizeof(ours.ch_software), "castrad %s",
	    castra_version());
	imsgev_compose(&cc->cc_iev, IMSG_CTL_HELLO, 0, 0, -1, &ours,
	    sizeof(ours));
	if (ch.ch_version != CASTRA_PROTO_VERSION) {
		control_result(cc, 70, "%s speaks control protocol %u but "
		    "castrad %s speaks %u; stop castrad and use one version",
		    ch.ch_software, ch.ch_version, castra_version(),
		    CASTRA_PROTO_VERSION);
		return (0);
	}
	cc->cc_hello = 1;
	return (0);
}

static int
control_project(struct ctlconn *cc, struct imsg *imsg)
{
	struct ctlupload	*cu = &cc->cc_upload;
	int			 fd;

	upload_clear(cu);
	fd = imsg_get_fd(imsg);
	if (proto_read_project(imsg, &cu->cu_project) == -1 || fd == -1) {
		if (fd != -1)
			close(fd);
		return (-1);
	}
	cu->cu_rootfd = fd;
	if (cu->cu_project.cp_nimages > CONTROL_MAX_IMAGES ||
	    cu->cu_project.cp_nvms > CONTROL_MAX_VMS)
		return (-1);
	cu->cu_images = calloc(cu->cu_project.cp_nimages + 1,
	    sizeof(*cu->cu_images));
	cu->cu_imagefds = calloc(cu->cu_project.cp_nimages + 1,
	    sizeof(*cu->cu_imagefds));
	cu->cu_vms = calloc(cu->cu_project.cp_nvms + 1, sizeof(*cu->cu_vms));
	cu->cu_vmfds = calloc(cu->cu_project.cp_nvms + 1,
	    sizeof(*cu->cu_vmfds));
	if (cu->cu_images == NULL || cu->cu_imagefds == NULL ||
	    cu->cu_vms == NULL || cu->cu_vmfds == NULL)
		fatal("%s", __func__);
	return (0);
}

static int
control_image(struct ctlconn *cc, struct imsg *imsg)
{
	struct ctlupload	*cu = &cc->cc_upload;
	int			 fd;

	fd = imsg_get_fd(imsg);
	if (cu->cu_images == NULL ||
	    cu->cu_nimages >= cu->cu_project.cp_nimages ||
	    proto_read_image(imsg, &cu->cu_images[cu->cu_nimages]) == -1) {
		if (fd != -1)
			close(fd);
		return (-1);
	}
	cu->cu_imagefds[cu->cu_nimages++] = fd;
	return (0);
}

static int
control_vm(struct ctlconn *cc, struct imsg *imsg)
{
	struct ctlupload	*cu = &cc->cc_upload;
	struct stat		 st;
	int			 fd;

	/*
	 * The descriptor, if any, is the VM's bootstrap tar.  castra-vmm
	 * reads it whole in its event loop: only a regular file of a
	 * bounded size, which cannot make a read wait, is passed on.
	 */
	fd = imsg_get_fd(imsg);
	if (fd != -1 && (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > CTL_BOOTSTRAP_MAX)) {
		close(fd);
		return (-1);
	}
	if (cu->cu_vms == NULL || cu->cu_nvms >= cu->cu_project.cp_nvms ||
	    proto_read_vm(imsg, &cu->cu_vms[cu->cu_nvms]) == -1) {
		if (fd != -1)
			close(fd);
		return (-1);
	}
	cu->cu_vmfds[cu->cu_nvms++] = fd;
	return (0);
}

static int
control_request(struct ctlconn *cc, struct imsg *imsg)
{
	struct ctlupload	*cu = &cc->cc_upload;
	struct ctl_request	 req;

	if (proto_read_request(imsg, &req) == -1 || cu->cu_rootfd == -1 ||
	    cu->cu_nimages != cu->cu_project.cp_nimages ||
	    cu->cu_nvms != cu->cu_project.cp_nvms ||
	    strcmp(req.cr_project, cu->cu_project.cp_id) != 0)
		return (-1);
	if (cc->cc_busy) {
		control_result(cc, 70, "one request at a time");
		return (0);
	}
	cc->cc_busy = 1;
	if (imsg_get_type(imsg) == IMSG_CTL_UP_REQUEST)
		project_up(cc, cu, &req);
	else
		project_down(cc, cu, &req);
	upload_clear(cu);
	return (0);
}

static int
control_handle(struct ctlconn *cc, struct imsg *imsg)
{
	uint32_t	 type = imsg_get_type(imsg);

	if (type == IMSG_CTL_HELLO)
		return (control_hello(cc, imsg));
	if (!cc->cc_hello)
		return (-1);
	switch (type) {
	case IMSG_CTL_PROJECT:
		return (control_project(cc, imsg));
	case IMSG_CTL_IMAGE:
		return (control_image(cc, imsg));
	case IMSG_CTL_VM:
		return (control_vm(cc, imsg));
	case IMSG_CTL_UP_REQUEST:
	case IMSG_CTL_DOWN_REQUEST:
		return (control_request(cc, imsg));
	case IMSG_CTL_IMAGE_PULL:
	case IMSG_CTL_IMAGE_IMPORT:
	case IMSG_CTL_IMAGE_REMOVE:
		return (images_control(cc, imsg));
	default:
		return (-1);
	}
}

static void
control_dispatch(int fd, short event, void *arg)
{
	struct imsgev	*iev = arg;
	struct ctlconn	*cc = iev->data;
	struct imsg	 imsg;
	uint32_t	 type;
	int		 n, fdin;

	if (!imsgev_read(iev, event)) {
		control_close(cc);
		return;
	}
	for (;;) {
		if ((n = imsgbuf_get(&iev->ibuf, &imsg)) == -1) {
			log_warnx("control: uid %u sent a malformed message",
			    cc->cc_uid);
			control_close(cc);
			return;
		}
		if (n == 0)
			break;
		type = imsg_get_type(&imsg);
		/*
		 * Only a project, an image and a VM (its bootstrap tar)
		 * may carry a descriptor.
		 */
		if (type != IMSG_CTL_PROJECT && type != IMSG_CTL_IMAGE &&
		    type != IMSG_CTL_IMAGE_IMPORT && type != IMSG_CTL_VM &&
		    (fdin = imsg_get_fd(&imsg)) != -1)
			close(fdin);
		if (control_handle(cc, &imsg) == -1) {
			log_warnx("control: uid %u sent a bad message, type %u",
			    cc->cc_uid, type);
			imsg_free(&imsg);
			control_close(cc);
			return;
		}
		imsg_free(&imsg);
	}
	imsgev_add(iev);
}

void
control_event(struct ctlconn *cc, uint32_t type, const char *vm,
    uint64_t num1, uint64_t num2, uint64_t num3, const char *fmt, ...)
{
	struct ctl_event	 ce;
	va_list			 ap;

	if (cc == NULL)
		return;
	memset(&ce, 0, sizeof(ce));
	ce.ce_type = type;
	if (vm != NULL)
		strlcpy(ce.ce_vm, vm, sizeof(ce.ce_vm));
	ce.ce_num1 = num1;
	ce.ce_num2 = num2;
	ce.ce_num3 = num3;
	va_start(ap, fmt);
	vsnprintf(ce.ce_text, sizeof(ce.ce_text), fmt, ap);
	va_end(ap);
	imsgev_compose(&cc->cc_iev, IMSG_CTL_EVENT, 0, 0, -1, &ce,
	    sizeof(ce));
}

void
control_result(struct ctlconn *cc, int status, const char *fmt, ...)
{
	struct ctl_result	 cr;
	va_list			 ap;

	if (cc == NULL)
		return;
	memset(&cr, 0, sizeof(cr));
	cr.cr_status = status;
	va_start(ap, fmt);
	vsnprintf(cr.cr_message, sizeof(cr.cr_message), fmt, ap);
	va_end(ap);
	imsgev_compose(&cc->cc_iev, IMSG_CTL_RESULT, 0, 0, -1, &cr,
	    sizeof(cr));
	cc->cc_busy = 0;
}
