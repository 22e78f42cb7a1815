/*
 * Projects that are up: bringing them up and down, and relaying between
 * the children on their behalf.
 *
 * `up` binds the broker's port, hands it to castra-broker, asks
 * castra-imgd for every image the VMs need and, once they are cached,
 * asks castra-vmm to start each VM whose dependencies are reachable.
 * `down` asks castra-vmm to stop every VM and closes the listener.  The
 * client that asked is told of each step as it happens.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "castra.h"
#include "castrad.h"
#include "images.h"
#include "log.h"
#include "proto.h"
#include "state.h"

#define UP_WAIT_DEFAULT		300	/* seconds for --wait */
#define SERIAL_TAIL_LINES	10

static const char *state_dirs[] = {
	"vms", "overlays", "run", "handshakes", "logs", "logs/bus"
};

static void	project_launch(struct project *);
static void	project_wait_expired(int, short, void *);
static void	project_check_done(struct project *);
static void	project_fail(struct project *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static void	project_stop_vms(struct project *);
static void	project_check_stopped(struct project *);
static void	project_closed(struct project *);
static void	project_free(struct project *);

/* Two owners' projects of one id are two projects. */
static struct project *
project_find(uid_t owner, const char *id)
{
	struct project	*pr;

	TAILQ_FOREACH(pr, &projects, pr_entry)
		if (pr->pr_owner == owner &&
		    strcmp(pr->pr_conf.cp_id, id) == 0)
			return (pr);
	return (NULL);
}

/* The project a child's message names by its key. */
static struct project *
project_bykey(const char *key)
{
	struct project	*pr;

	TAILQ_FOREACH(pr, &projects, pr_entry)
		if (strcmp(pr->pr_key, key) == 0)
			return (pr);
	return (NULL);
}

static struct vmstate *
project_vm(struct project *pr, const char *name)
{
	struct vmstate	*vs;

	TAILQ_FOREACH(vs, &pr->pr_vms, vs_entry)
		if (strcmp(vs->vs_conf.cv_name, name) == 0)
			return (vs);
	return (NULL);
}

/*
 * Is there a symbolic link in dirfd?  A directory castrad takes over
 * from a user must not hold one: QEMU and the children, as _castra,
 * would write or remove what it points at.
 */
static int
project_dir_links(int dirfd, char *name, size_t len)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*dir;
	int		 fd, found = 0;

	if ((fd = dup(dirfd)) == -1)
		return (-1);
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return (-1);
	}
	rewinddir(dir);
	while (!found && (de = readdir(dir)) != NULL) {
		if (de->d_type == DT_UNKNOWN) {
			if (fstatat(dirfd, de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) == -1)
				continue;
			found = S_ISLNK(st.st_mode);
		} else
			found = de->d_type == DT_LNK;
		if (found)
			strlcpy(name, de->d_name, len);
	}
	closedir(dir);
	return (found);
}

/*
 * One directory of the state root, reached one component at a time
 * and never through a symbolic link: as root, castrad then gives it
 * to _castra, setgid to the owner's group so that the owner reads
 * what the children write there, and may clean it.  On failure err
 * says why.
 */
static int
project_dir_take(int rootfd, const char *path, gid_t gid, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		 buf[PATH_MAX], link[NAME_MAX + 1], *name, *next;
	int		 fd, dirfd;

	strlcpy(buf, path, sizeof(buf));
	if ((dirfd = dup(rootfd)) == -1)
		goto fail;
	for (name = buf; name != NULL; name = next) {
		if ((next = strchr(name, '/')) != NULL)
			*next++ = '\0';
		if (mkdirat(dirfd, name, 0750) == -1 && errno != EEXIST)
			goto fail;
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		close(dirfd);
		if ((dirfd = fd) == -1) {
			if (errno == ELOOP || errno == ENOTDIR)
				snprintf(err, errlen, "%s in the state root "
				    "is not a directory (a symbolic link?); "
				    "remove it", path);
			goto fail;
		}
	}
	if (getuid() != 0) {
		close(dirfd);
		return (0);
	}
	if (fstat(dirfd, &st) == -1)
		goto fail;
	if (st.st_uid != castra_uid) {
		switch (project_dir_links(dirfd, link, sizeof(link))) {
		case -1:
			goto fail;
		case 1:
			snprintf(err, errlen, "%s/%s in the state root is a "
			    "symbolic link; remove it", path, link);
			goto fail;
		}
	}
	if (fchown(dirfd, castra_uid, gid) == -1 ||
	    fchmod(dirfd, 02770) == -1)
		goto fail;
	close(dirfd);
	return (0);

 fail:
	if (err[0] == '\0')
		snprintf(err, errlen, "cannot prepare %s in the state root: "
		    "%s", path, strerror(errno));
	if (dirfd != -1)
		close(dirfd);
	return (-1);
}

/*
 * Make the state root's directories.  As root, the children run as
 * _castra and write into some of them, so those become _castra's.  The
 * root itself stays the owner's, and only _castra's group may enter
 * it: other users see nothing of the project, not even its logs.
 */
static int
project_dirs(int rootfd, char *err, size_t errlen)
{
	struct passwd	*pw;
	struct stat	 st;
	gid_t		 gid;
	size_t		 i;

	err[0] = '\0';
	if (fstat(rootfd, &st) == -1) {
		snprintf(err, errlen, "the state root: %s", strerror(errno));
		return (-1);
	}
	gid = st.st_gid;
	if (getuid() == 0) {
		gid = (pw = getpwuid(st.st_uid)) != NULL ? pw->pw_gid :
		    castra_gid;
		if (fchown(rootfd, -1, castra_gid) == -1 ||
		    fchmod(rootfd, 0710) == -1) {
			snprintf(err, errlen, "cannot prepare the state root: "
			    "%s", strerror(errno));
			return (-1);
		}
	}
	for (i = 0; i < sizeof(state_dirs) / sizeof(state_dirs[0]); i++)
		if (project_dir_take(rootfd, state_dirs[i], gid, err,
		    errlen) == -1)
			return (-1);
	return (0);
}

static int
project_listen(uint16_t port)
{
	struct sockaddr_in	 sin;
	int			 fd, on = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return (-1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, SOMAXCONN) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

static void
project_write_json(struct project *pr)
{
	json_t	*o;

	o = json_pack("{s:s, s:s, s:i, s:i, s:b}",
	    "name", pr->pr_conf.cp_name,
	    "config", pr->pr_conf.cp_config,
	    "broker_port", (int)pr->pr_conf.cp_broker_port,
	    "owner_uid", (int)pr->pr_owner,
	    "broker_only", pr->pr_broker_only);
	if (o == NULL || state_write_json(pr->pr_rootfd, "project.json", o,
	    0644) == -1)
		log_warn("%s: project.json", pr->pr_key);
	json_decref(o);
}

/*
 * With no VM to find, a restarted castrad knows a project is up
 * broker-only by its project.json alone, which must say so exactly
 * while it is.
 */
static void
project_set_broker_only(struct project *pr, int on)
{
	if (pr->pr_broker_only == on)
		return;
	pr->pr_broker_only = on;
	project_write_json(pr);
}

/* broker.json says whether, and in which process, the broker listens. */
static void
project_write_broker(struct project *pr)
{
	struct proc	*p = proc_byid(PROC_BROKER);
	json_t		*o;

	if (pr->pr_listenfd != -1 && p != NULL && p->p_alive)
		o = json_pack("{s:i, s:I, s:i, s:s}",
		    "pid", (int)p->p_pid,
		    "start_time", (json_int_t)proc_starttime(p->p_pid),
		    "port", (int)pr->pr_conf.cp_broker_port,
		    "state", "listening");
	else
		o = json_pack("{s:i, s:s}",
		    "port", (int)pr->pr_conf.cp_broker_port,
		    "state", "stopped");
	if (o == NULL || state_write_json(pr->pr_rootfd, "broker.json", o,
	    0644) == -1)
		log_warn("%s: broker.json", pr->pr_key);
	json_decref(o);
}

static void
broker_project_msg(struct project *pr, struct broker_project *bp)
{
	memset(bp, 0, sizeof(*bp));
	strlcpy(bp->bp_id, pr->pr_key, sizeof(bp->bp_id));
	strlcpy(bp->bp_token, pr->pr_conf.cp_token, sizeof(bp->bp_token));
	bp->bp_port = pr->pr_conf.cp_broker_port;
	bp->bp_hello_timeout = env_seconds("CASTRA_BROKER_HELLO_TIMEOUT");
	bp->bp_heartbeat_timeout =
	    env_seconds("CASTRA_BROKER_HEARTBEAT_TIMEOUT");
}

static void
broker_vm_send(struct project *pr, struct vmstate *vs, int forget)
{
	struct broker_vm	 bv;

	memset(&bv, 0, sizeof(bv));
	strlcpy(bv.bv_project, pr->pr_key, sizeof(bv.bv_project));
	strlcpy(bv.bv_name, vs->vs_conf.cv_name, sizeof(bv.bv_name));
	if (!forget)
		strlcpy(bv.bv_token, vs->vs_token, sizeof(bv.bv_token));
	proc_compose(PROC_BROKER, IMSG_BROKER_VM, 0, -1, &bv, sizeof(bv));
}

static int
vm_active(struct vmstate *vs)
{
	return (vs->vs_state == VM_STARTING || vs->vs_state == VM_RUNNING ||
	    vs->vs_state == VM_REACHABLE || vs->vs_state == VM_STOPPING);
}

/*
 * Have vmm take a VM back from its record, or, if it watches the VM
 * already, the state root's newest descriptor.
 */
static void
vm_adopt(struct project *pr, struct vmstate *vs)
{
	struct vmm_vm	 vv;
	int		 fd;

	memset(&vv, 0, sizeof(vv));
	strlcpy(vv.vv_project, pr->pr_key, sizeof(vv.vv_project));
	strlcpy(vv.vv_name, vs->vs_conf.cv_name, sizeof(vv.vv_name));
	if ((fd = dup(pr->pr_rootfd)) != -1)
		proc_compose(PROC_VMM, IMSG_VMM_ADOPT_REQUEST, 0, fd, &vv,
		    sizeof(vv));
}

/* Hand the broker what it needs for pr: the state root and listener. */
static void
project_to_broker(struct project *pr)
{
	struct broker_project	 bp;
	struct vmstate		*vs;
	int			 fd;

	broker_project_msg(pr, &bp);
	if ((fd = dup(pr->pr_rootfd)) == -1 ||
	    proc_compose(PROC_BROKER, IMSG_BROKER_PROJECT, 0, fd, &bp,
	    sizeof(bp)) == -1)
		log_warn("%s: broker", pr->pr_key);
	if ((fd = dup(pr->pr_listenfd)) == -1 ||
	    proc_compose(PROC_BROKER, IMSG_BROKER_LISTEN, 0, fd, &bp,
	    sizeof(bp)) == -1)
		log_warn("%s: broker", pr->pr_key);
	TAILQ_FOREACH(vs, &pr->pr_vms, vs_entry)
		if (vm_active(vs))
			broker_vm_send(pr, vs, 0);
	project_write_broker(pr);
}

/* A project castrad keeps from now on, with its state root. */
static struct project *
project_alloc(const struct ctl_project *cp, uid_t owner, int rootfd)
{
	struct project	*pr;
	int		 n;

	if ((pr = calloc(1, sizeof(*pr))) == NULL)
		fatal("%s", __func__);
	pr->pr_conf = *cp;
	pr->pr_owner = owner;
	/* proto_id_valid left room for the uid. */
	n = snprintf(pr->pr_key, sizeof(pr->pr_key), "%u.%s",
	    (unsigned int)owner, cp->cp_id);
	if (n < 0 || (size_t)n >= sizeof(pr->pr_key))
		fatalx("%s: the key of %s is too long", __func__, cp->cp_id);
	pr->pr_rootfd = rootfd;
	pr->pr_listenfd = -1;
	TAILQ_INIT(&pr->pr_vms);
	TAILQ_INIT(&pr->pr_artifacts);
	evtimer_set(&pr->pr_wait_ev, project_wait_expired, pr);
	TAILQ_INSERT_TAIL(&projects, pr, pr_entry);
	return (pr);
}

static struct project *
project_new(struct ctlupload *cu, uid_t owner, char *err, size_t errlen)
{
	struct project	*pr;

	if (project_dirs(cu->cu_rootfd, err, errlen) == -1)
		return (NULL);
	pr = project_alloc(&cu->cu_project, owner, cu->cu_rootfd);
	cu->cu_rootfd = -1;
	project_write_json(pr);
	record_keep(pr);
	return (pr);
}

static int
project_start_broker(struct project *pr, char *err, size_t errlen)
{
	if (pr->pr_listenfd != -1)
		return (0);
	if ((pr->pr_listenfd = project_listen(pr->pr_conf.cp_broker_port)) ==
	    -1) {
		snprintf(err, errlen, "cannot listen on 127.0.0.1:%u: %s; "
		    "is another project or program using it? Choose another "
		    "`broker port` in castra.conf", pr->pr_conf.cp_broker_port,
		    strerror(errno));
		return (-1);
	}
	project_to_broker(pr);
	control_event(pr->pr_client, CASTRA_EV_BROKER_STARTED, NULL,
	    pr->pr_conf.cp_broker_port, 0, 0, "broker listening on "
	    "127.0.0.1:%u", pr->pr_conf.cp_broker_port);
	return (0);
}

/* Does a record on disk say one of the project's VMs still runs? */
static int
project_vms_on_disk(struct project *pr, struct ctlupload *cu)
{
	char		 path[PATH_MAX];
	uint32_t	 i;

	for (i = 0; i < cu->cu_nvms; i++) {
		snprintf(path, sizeof(path), "vms/%s.json",
		    cu->cu_vms[i].cv_name);
		if (record_alive(pr->pr_rootfd, path))
			return (1);
	}
	return (0);
}

static void
project_take_vms(struct project *pr, struct ctlupload *cu)
{
	struct vmstate		*vs;
	struct artifactref	*ar;
	uint32_t		 i;

	for (i = 0; i < cu->cu_nvms; i++) {
		if ((vs = project_vm(pr, cu->cu_vms[i].cv_name)) == NULL) {
			if ((vs = calloc(1, sizeof(*vs))) == NULL)
				fatal("%s", __func__);
			TAILQ_INSERT_TAIL(&pr->pr_vms, vs, vs_entry);
		}
		vs->vs_conf = cu->cu_vms[i];
		vs->vs_state = VM_PENDING;
		if (vs->vs_hasboot)
			close(vs->vs_bootfd);
		vs->vs_hasboot = cu->cu_vmfds[i] != -1;
		vs->vs_bootfd = cu->cu_vmfds[i];
		cu->cu_vmfds[i] = -1;
	}
	for (i = 0; i < cu->cu_nimages; i++) {
		if ((ar = calloc(1, sizeof(*ar))) == NULL)
			fatal("%s", __func__);
		ar->ar_project = pr;
		ar->ar_image = cu->cu_images[i];
		ar->ar_fd = cu->cu_imagefds[i];
		cu->cu_imagefds[i] = -1;
		TAILQ_INSERT_TAIL(&pr->pr_artifacts, ar, ar_entry);
	}
}

static void
artifact_progress(void *arg, const struct img_progress *ip)
{
	struct artifactref	*ar = arg;

	control_event(ar->ar_project->pr_client, CASTRA_EV_IMAGE_PROGRESS,
	    NULL, ip->ip_done, ip->ip_total, 0, "%s", ip->ip_url);
}

static void
artifact_done(void *arg, const char *sha256, const char *error)
{
	struct artifactref	*ar = arg;
	struct project		*pr = ar->ar_project;

	if (error != NULL) {
		project_fail(pr, "image %s: %s", ar->ar_image.ci_name, error);
		return;
	}
	strlcpy(ar->ar_sha256, sha256, sizeof(ar->ar_sha256));
	ar->ar_done = 1;
	control_event(pr->pr_client, CASTRA_EV_IMAGE_READY, NULL, 0, 0, 0,
	    "%s", sha256);
	project_launch(pr);
}

static void
project_fetch(struct project *pr)
{
	struct artifactref	*ar;
	int			 fd;

	TAILQ_FOREACH(ar, &pr->pr_artifacts, ar_entry) {
		fd = ar->ar_fd;
		ar->ar_fd = -1;
		if (images_request(&ar->ar_image.ci_artifact, fd,
		    artifact_progress, artifact_done, ar) == -1) {
			project_fail(pr, "image %s: castra-imgd is not "
			    "running; see castrad's log",
			    ar->ar_image.ci_name);
			return;
		}
	}
	project_launch(pr);
}

static const char *
artifact_sha(struct project *pr, const char *image, uint32_t role)
{
	struct artifactref	*ar;

	TAILQ_FOREACH(ar, &pr->pr_artifacts, ar_entry)
		if (strcmp(ar->ar_image.ci_name, image) == 0 &&
		    ar->ar_image.ci_role == role)
			return (ar->ar_done ? ar->ar_sha256 : NULL);
	return ("");
}

static int
vm_ready(struct project *pr, struct vmstate *vs)
{
	struct vmstate	*dep;
	uint32_t	 i;

	for (i = CTL_IMAGE_DISK; i <= CTL_IMAGE_INITRD; i++)
		if (artifact_sha(pr, vs->vs_conf.cv_image, i) == NULL)
			return (0);
	for (i = 0; i < vs->vs_conf.cv_ndepends; i++) {
		dep = project_vm(pr, vs->vs_conf.cv_depends[i]);
		if (dep != NULL && dep->vs_state != VM_REACHABLE)
			return (0);
	}
	return (1);
}

static void
vm_start(struct project *pr, struct vmstate *vs)
{
	struct vmm_start	 vms;
	struct vmm_bootstrap	 vb;
	int			 fd;
	unsigned char		 secret[TOKEN_HEX_LEN / 2];

	arc4random_buf(secret, sizeof(secret));
	hex_encode(secret, sizeof(secret), vs->vs_token,
	    sizeof(vs->vs_token));
	broker_vm_send(pr, vs, 0);

	memset(&vms, 0, sizeof(vms));
	strlcpy(vms.vs_project, pr->pr_key, sizeof(vms.vs_project));
	strlcpy(vms.vs_name, vs->vs_conf.cv_name, sizeof(vms.vs_name));
	strlcpy(vms.vs_token, vs->vs_token, sizeof(vms.vs_token));
	strlcpy(vms.vs_disk, artifact_sha(pr, vs->vs_conf.cv_image,
	    CTL_IMAGE_DISK), sizeof(vms.vs_disk));
	strlcpy(vms.vs_kernel, artifact_sha(pr, vs->vs_conf.cv_image,
	    CTL_IMAGE_KERNEL), sizeof(vms.vs_kernel));
	strlcpy(vms.vs_initrd, artifact_sha(pr, vs->vs_conf.cv_image,
	    CTL_IMAGE_INITRD), sizeof(vms.vs_initrd));
	strlcpy(vms.vs_cmdline, vs->vs_conf.cv_cmdline,
	    sizeof(vms.vs_cmdline));
	vms.vs_cpus = vs->vs_conf.cv_cpus;
	vms.vs_memory_mib = vs->vs_conf.cv_memory_mib;
	vms.vs_broker_port = pr->pr_conf.cp_broker_port;
	vms.vs_nforwards = vs->vs_conf.cv_nforwards;
	memcpy(vms.vs_forwards, vs->vs_conf.cv_forwards,
	    sizeof(vms.vs_forwards));
	vms.vs_up_at_ms = pr->pr_up_at_ms;

	/* No prune may take an image from under a running VM. */
	images_hold(vms.vs_disk, pr);
	if (vms.vs_kernel[0] != '\0')
		images_hold(vms.vs_kernel, pr);
	if (vms.vs_initrd[0] != '\0')
		images_hold(vms.vs_initrd, pr);
	vs->vs_state = VM_STARTING;
	/* The bootstrap tar goes first; castra-vmm keeps it for the start. */
	if (vs->vs_hasboot) {
		memset(&vb, 0, sizeof(vb));
		strlcpy(vb.vb_project, vms.vs_project, sizeof(vb.vb_project));
		strlcpy(vb.vb_name, vms.vs_name, sizeof(vb.vb_name));
		vs->vs_hasboot = 0;
		/* On failure the start request below fails too. */
		(void)proc_compose(PROC_VMM, IMSG_VMM_BOOTSTRAP, 0,
		    vs->vs_bootfd, &vb, sizeof(vb));
	}
	if ((fd = dup(pr->pr_rootfd)) == -1 ||
	    proc_compose(PROC_VMM, IMSG_VMM_START_REQUEST, 0, fd, &vms,
	    sizeof(vms)) == -1) {
		vs->vs_state = VM_FAILED;
		project_fail(pr, "%s: castra-vmm is not running; see "
		    "castrad's log", vs->vs_conf.cv_name);
	}
}

/* Start every VM whose images are cached and dependencies reachable. */
static void
project_launch(struct project *pr)
{
	struct vmstate	*vs;

	if (pr->pr_failed || pr->pr_stopping)
		return;
	TAILQ_FOREACH(vs, &pr->pr_vms, vs_entry)
		if (vs->vs_state == VM_PENDING && vm_ready(pr, vs))
			vm_start(pr, vs);
	project_check_done(pr);
}

/* Tell a waiting client that its up is done, when it is. */
static void
project_check_done(struct project *pr)
{
	struct vmstate	*vs;
	int		 wait = pr->pr_flags & CTL_UP_WAIT;

	if (pr->pr_client == NULL || pr->pr_stopping || pr->pr_failed)
		return;
	TAILQ_FOREACH(vs, &pr->pr_vms, vs_entry) {
		if (vs->vs_state == VM_REACHABLE)
			continue;
		if (!wait && vs->vs_state == VM_RUNNING)
			continue;
		return;
	}
	evtimer_del(&pr->pr_wait_ev);
	control_result(pr->pr_client, 0, "%s is up", pr->pr_conf.cp_name);
	pr->pr_client = NULL;
}

/* The last lines of a VM's serial log, to say why it is not up. */
static void
serial_tail(struct project *pr, const char *vm, char *buf, size_t len)
{
	char	 path[PATH_MAX];

	snprintf(path, sizeof(path), "logs/%s-serial.log", vm);
	if (record_tail(pr->pr_rootfd, path, SERIAL_TAIL_LINES, buf,
	    len) == -1)
		snprintf(buf, len, "(no serial log)");
}

static void
project_wait_expired(int fd, short event, void *arg)
{
	struct project	*pr = arg;
	struct vmstate	*vs;
	char		 tail[CTL_TEXT_MAX / 2];

	TAILQ_FOREACH(vs, &pr->pr_vms, vs_entry)
		if (vs->vs_state != VM_REACHABLE)
			break;
	if (vs == NULL)
		return;
	serial_tail(pr, vs->vs_conf.cv_name, tail, sizeof(tail));
	project_fail(pr, "%s did not say hello within %u s; the end of "
	    "logs/%s-serial.log:\n%s", vs->vs_conf.cv_name,
	    env_seconds("CASTRA_UP_TIMEOUT") ?
	    env_seconds("CASTRA_UP_TIMEOUT") : UP_WAIT_DEFAULT,
	    vs->vs_conf.cv_name, tail);
}

/*
 * A project castrad adopted when it started opened its state root by
 * path, and under a hardened unit (ProtectHome=read-only) a home
 * directory is read-only by path.  The descriptor of the owner's castra
 * is the owner's own view of the same directory: castrad keeps that one
 * (with systemd too, for the next castrad) and hands it to the
 * children, which then write there again.
 */
static void
project_reroot(struct project *pr, struct ctlupload *cu)
{
	struct vmstate	*vs;

	if (!record_same_dir(pr->pr_rootfd, cu->cu_rootfd))
		return;
	close(pr->pr_rootfd);
	pr->pr_rootfd = cu->cu_rootfd;
	cu->cu_rootfd = -1;
	record_keep(pr);
	if (pr->pr_listenfd != -1)
		project_to_broker(pr);
	TAILQ_FOREACH(vs, &pr->pr_vms, vs_entry)
		if (vm_active(vs))
			vm_adopt(pr, vs);
}

/*
 * The project a request is about: its owner is the owner of the state
 * root the request names, which must be the client's own unless the
 * client is root, who so names any user's project.  The one castrad
 * keeps, when no other client is acting on it, or else a new one.
 * NULL when the client has had its answer already.
 */
static struct project *
project_claim(struct ctlconn *cc, struct ctlupload *cu, int *known)
{
	struct project	*pr;
	struct stat	 st;
	char		 err[CTL_TEXT_MAX];
	uid_t		 uid = control_uid(cc);

	if (fstat(cu->cu_rootfd, &st) == -1 || !S_ISDIR(st.st_mode)) {
		control_result(cc, 73, "the state root is not a directory");
		return (NULL);
	}
	if (uid != 0 && st.st_uid != uid) {
		control_result(cc, 73, "the state root belongs to uid %u, "
		    "not to you", st.st_uid);
		return (NULL);
	}
	if ((pr = project_find(st.st_uid, cu->cu_project.cp_id)) == NULL) {
		*known = 0;
		if ((pr = project_new(cu, st.st_uid, err,
		    sizeof(err))) == NULL)
			control_result(cc, 73, "%s", err);
		return (pr);
	}
	*known = 1;
	if (pr->pr_client != NULL || pr->pr_stopping) {
		control_result(cc, 75, "%s is busy: another castra is "
		    "bringing it up or down; wait for it",
		    pr->pr_conf.cp_name);
		return (NULL);
	}
	project_reroot(pr, cu);
	return (pr);
}

void
project_up(struct ctlconn *cc, struct ctlupload *cu,
    const struct ctl_request *req)
{
	struct project	*pr;
	struct timeval	 tv;
	char		 err[CTL_TEXT_MAX];
	int		 known;

	if ((pr = project_claim(cc, cu, &known)) == NULL)
		return;
	if (known && !pr->pr_broker_only) {
		control_event(cc, CASTRA_EV_MESSAGE, NULL, 0, 0, 0,
		    "%s is already up; nothing changed", pr->pr_conf.cp_name);
		control_result(cc, 0, "%s is already up",
		    pr->pr_conf.cp_name);
		return;
	}

	pr->pr_client = cc;
	pr->pr_flags = req->cr_flags;
	pr->pr_up_at_ms = now_ms();
	if (project_start_broker(pr, err, sizeof(err)) == -1) {
		control_result(cc, 70, "%s", err);
		pr->pr_client = NULL;
		project_free(pr);
		return;
	}
	if (req->cr_flags & CTL_UP_BROKER_ONLY) {
		project_set_broker_only(pr, 1);
		if (project_vms_on_disk(pr, cu))
			control_event(cc, CASTRA_EV_WARNING, NULL, 0, 0, 0,
			    "VMs of %s are already running; they were left "
			    "as they are", pr->pr_conf.cp_name);
		control_result(cc, 0, "broker of %s is listening",
		    pr->pr_conf.cp_name);
		pr->pr_client = NULL;
		return;
	}
	project_set_broker_only(pr, 0);
	project_take_vms(pr, cu);
	if (req->cr_flags & CTL_UP_WAIT) {
		timerclear(&tv);
		tv.tv_sec = env_seconds("CASTRA_UP_TIMEOUT");
		if (tv.tv_sec == 0)
			tv.tv_sec = UP_WAIT_DEFAULT;
		evtimer_add(&pr->pr_wait_ev, &tv);
	}
	project_fetch(pr);
}

/*
 * An up that failed stops what it started; the client hears why once
 * everything is down again.
 */
static void
project_fail(struct project *pr, const char *fmt, ...)
{
	va_list	 ap;

	if (pr->pr_failed)
		return;
	pr->pr_failed = 1;
	va_start(ap, fmt);
	vsnprintf(pr->pr_error, sizeof(pr->pr_error), fmt, ap);
	va_end(ap);
	log_warnx("%s: %s", pr->pr_key, pr->pr_error);
	evtimer_del(&pr->pr_wait_ev);
	project_stop_vms(pr);
}

static void
vm_stop(struct project *pr, struct vmstate *vs)
{
	struct vmm_stop	 stop;

	/* vmm may not know the VM yet if castrad was restarted. */
	vm_adopt(pr, vs);

	memset(&stop, 0, sizeof(stop));
	strlcpy(stop.vs_project, pr->pr_key, sizeof(stop.vs_project));
	strlcpy(stop.vs_name, vs->vs_conf.cv_name, sizeof(stop.vs_name));
	stop.vs_wait_graceful = pr->pr_conf.cp_wait_graceful;
	stop.vs_wait_sigterm = pr->pr_conf.cp_wait_sigterm;
	stop.vs_wait_sigkill = pr->pr_conf.cp_wait_sigkill;
	vs->vs_state = VM_STOPPING;
	control_event(pr->pr_client, CASTRA_EV_SHUTDOWN_REQUESTED,
	    vs->vs_conf.cv_name, 0, 0, 0, "stopping");
	if (proc_compose(PROC_VMM, IMSG_VMM_STOP_REQUEST, 0, -1, &stop,
	    sizeof(stop)) == -1)
		log_warnx("%s: castra-vmm is not running", stop.vs_name);
}

static void
project_stop_vms(struct project *pr)
{
	struct vmstate	*vs;

	pr->pr_stopping = 1;
	TAILQ_FOREACH(vs, &pr->pr_vms, vs_entry) {
		if (vs->vs_state == VM_PENDING || vs->vs_state == VM_FAILED)
			vs->vs_state = VM_STOPPED;
		else if (vs->vs_state != VM_STOPPED &&
		    vs->vs_state != VM_STOPPING)
			vm_stop(pr, vs);
	}
	project_check_stopped(pr);
}

/* When every VM is down: close the broker and answer the client. */
static void
project_check_stopped(struct project *pr)
{
	struct broker_project	 bp;
	struct vmstate		*vs;

	TAILQ_FOREACH(vs, &pr->pr_vms, vs_entry)
		if (vs->vs_state != VM_STOPPED)
			return;
	if (pr->pr_closing)
		return;
	pr->pr_closing = 1;
	if (pr->pr_listenfd != -1) {
		close(pr->pr_listenfd);
		pr->pr_listenfd = -1;
	}
	/*
	 * The client hears only once the broker has closed its copy of
	 * the listener, so that an `up` right after can bind the port.
	 */
	broker_project_msg(pr, &bp);
	if (proc_compose(PROC_BROKER, IMSG_BROKER_STOP, 0, -1, &bp,
	    sizeof(bp)) == -1)
		project_closed(pr);
}

/* The project is down and its port free: answer and forget it. */
static void
project_closed(struct project *pr)
{
	project_write_broker(pr);
	if (pr->pr_failed)
		control_result(pr->pr_client, 70, "%s", pr->pr_error);
	else
		control_result(pr->pr_client, 0, "%s is down",
		    pr->pr_conf.cp_name);
	pr->pr_client = NULL;
	project_free(pr);
}

void
project_down(struct ctlconn *cc, struct ctlupload *cu,
    const struct ctl_request *req)
{
	struct project	*pr;
	struct vmstate	*vs;
	uint32_t	 i;
	int		 known;

	if ((pr = project_claim(cc, cu, &known)) == NULL)
		return;
	pr->pr_client = cc;
	if (req->cr_wait_graceful)
		pr->pr_conf.cp_wait_graceful = req->cr_wait_graceful;
	if (req->cr_wait_sigterm)
		pr->pr_conf.cp_wait_sigterm = req->cr_wait_sigterm;
	if (req->cr_wait_sigkill)
		pr->pr_conf.cp_wait_sigkill = req->cr_wait_sigkill;
	/* Stop the VMs of the project file, whatever castrad remembers. */
	for (i = 0; i < cu->cu_nvms; i++) {
		if ((vs = project_vm(pr, cu->cu_vms[i].cv_name)) != NULL)
			continue;
		if ((vs = calloc(1, sizeof(*vs))) == NULL)
			fatal("%s", __func__);
		vs->vs_conf = cu->cu_vms[i];
		vs->vs_state = VM_RUNNING;
		TAILQ_INSERT_TAIL(&pr->pr_vms, vs, vs_entry);
	}
	project_stop_vms(pr);
}

void
project_client_gone(struct ctlconn *cc)
{
	struct project	*pr;

	TAILQ_FOREACH(pr, &projects, pr_entry)
		if (pr->pr_client == cc)
			pr->pr_client = NULL;
}

static void
project_free(struct project *pr)
{
	struct vmstate		*vs;
	struct artifactref	*ar;

	TAILQ_REMOVE(&projects, pr, pr_entry);
	evtimer_del(&pr->pr_wait_ev);
	images_cancel(pr);
	while ((vs = TAILQ_FIRST(&pr->pr_vms)) != NULL) {
		TAILQ_REMOVE(&pr->pr_vms, vs, vs_entry);
		if (vs->vs_hasboot)
			close(vs->vs_bootfd);
		free(vs);
	}
	while ((ar = TAILQ_FIRST(&pr->pr_artifacts)) != NULL) {
		TAILQ_REMOVE(&pr->pr_artifacts, ar, ar_entry);
		images_cancel(ar);
		if (ar->ar_fd != -1)
			close(ar->ar_fd);
		free(ar);
	}
	if (pr->pr_listenfd != -1)
		close(pr->pr_listenfd);
	project_set_broker_only(pr, 0);
	record_forget(pr);
	close(pr->pr_rootfd);
	free(pr);
}

/* Find the project and VM a child's message is about. */
static struct vmstate *
message_vm(const char *project, const char *name, struct project **prp)
{
	struct project	*pr;
	struct vmstate	*vs;

	if ((pr = project_bykey(project)) == NULL ||
	    (vs = project_vm(pr, name)) == NULL) {
		log_debug("%s: %s/%s is not known", __func__, project, name);
		return (NULL);
	}
	*prp = pr;
	return (vs);
}

int
project_dispatch_broker(struct proc *p, struct imsg *imsg)
{
	struct broker_project	 bp;
	struct broker_vm	 bv;
	struct project		*pr;
	struct vmstate		*vs;

	switch (imsg_get_type(imsg)) {
	case IMSG_BROKER_STOP_RESPONSE:
		if (proto_read_broker_project(imsg, &bp) == -1)
			return (-1);
		if ((pr = project_bykey(bp.bp_id)) != NULL && pr->pr_closing)
			project_closed(pr);
		return (0);
	case IMSG_BROKER_HANDSHAKE_EVENT:
		if (proto_read_broker_vm(imsg, &bv) == -1)
			return (-1);
		if ((vs = message_vm(bv.bv_project, bv.bv_name, &pr)) == NULL)
			return (0);
		proc_compose(PROC_VMM, IMSG_VMM_HANDSHAKE_EVENT, 0, -1, &bv,
		    sizeof(bv));
		if (vs->vs_state != VM_RUNNING)
			return (0);
		vs->vs_state = VM_REACHABLE;
		control_event(pr->pr_client, CASTRA_EV_VM_REACHABLE,
		    vs->vs_conf.cv_name, 0, 0, bv.bv_timestamp -
		    pr->pr_up_at_ms, "%s is reachable", vs->vs_conf.cv_name);
		project_launch(pr);
		return (0);
	default:
		return (-1);
	}
}

static int
vmm_started(struct imsg *imsg)
{
	struct vmm_vm	 vv;
	struct project	*pr;
	struct vmstate	*vs;

	if (proto_read_vmm_vm(imsg, &vv) == -1)
		return (-1);
	if ((vs = message_vm(vv.vv_project, vv.vv_name, &pr)) == NULL)
		return (0);
	vs->vs_pid = vv.vv_pid;
	if (vs->vs_state != VM_STARTING)
		return (0);
	vs->vs_state = VM_RUNNING;
	control_event(pr->pr_client, CASTRA_EV_VM_LAUNCHED, vv.vv_name,
	    vv.vv_pid, 0, 0, "%s", vv.vv_accel);
	project_check_done(pr);
	return (0);
}

static int
vmm_failed(struct imsg *imsg)
{
	struct vmm_fail	 vf;
	struct project	*pr;
	struct vmstate	*vs;

	if (proto_read_vmm_fail(imsg, &vf) == -1)
		return (-1);
	if ((vs = message_vm(vf.vf_project, vf.vf_name, &pr)) == NULL)
		return (0);
	if (vs->vs_state == VM_STOPPING) {
		/* A stop that failed still leaves the VM for dead. */
		vs->vs_state = VM_STOPPED;
		project_check_stopped(pr);
		return (0);
	}
	vs->vs_state = VM_FAILED;
	project_fail(pr, "%s: %s", vf.vf_name, vf.vf_message);
	return (0);
}

static int
vmm_stop_event(struct imsg *imsg)
{
	struct vmm_stop_event	 se;
	struct project		*pr;
	struct vmstate		*vs;

	if (proto_read_vmm_stop_event(imsg, &se) == -1)
		return (-1);
	if ((vs = message_vm(se.se_project, se.se_name, &pr)) == NULL)
		return (0);
	control_event(pr->pr_client, se.se_type, se.se_name, se.se_bytes, 0,
	    se.se_ms, "%s", se.se_text);
	if (imsg_get_type(imsg) != IMSG_VMM_STOP_RESPONSE)
		return (0);
	vs->vs_state = VM_STOPPED;
	broker_vm_send(pr, vs, 1);
	project_check_stopped(pr);
	return (0);
}

/* A QEMU that ended by itself. */
static int
vmm_exited(struct imsg *imsg)
{
	struct vmm_vm	 vv;
	struct project	*pr;
	struct vmstate	*vs;
	char		 tail[CTL_TEXT_MAX / 2];

	if (proto_read_vmm_vm(imsg, &vv) == -1)
		return (-1);
	if ((vs = message_vm(vv.vv_project, vv.vv_name, &pr)) == NULL)
		return (0);
	log_info("%s: VM %s exited", pr->pr_key, vv.vv_name);
	if (vs->vs_state == VM_STOPPING)
		return (0);
	vs->vs_state = VM_STOPPED;
	broker_vm_send(pr, vs, 1);
	if (pr->pr_client != NULL && !pr->pr_stopping) {
		serial_tail(pr, vv.vv_name, tail, sizeof(tail));
		project_fail(pr, "%s exited while starting; the end of "
		    "logs/%s-serial.log:\n%s", vv.vv_name, vv.vv_name, tail);
	} else if (pr->pr_stopping)
		project_check_stopped(pr);
	return (0);
}

int
project_dispatch_vmm(struct proc *p, struct imsg *imsg)
{
	switch (imsg_get_type(imsg)) {
	case IMSG_VMM_START_RESPONSE:
		return (vmm_started(imsg));
	case IMSG_VMM_FAIL_RESPONSE:
		return (vmm_failed(imsg));
	case IMSG_VMM_STOP_EVENT:
	case IMSG_VMM_STOP_RESPONSE:
		return (vmm_stop_event(imsg));
	case IMSG_VMM_EXIT_EVENT:
		return (vmm_exited(imsg));
	default:
		return (-1);
	}
}

/*
 * A new broker knows nothing: give it every project again.  One that
 * was closing is closed: the old broker's sockets died with it.
 */
void
project_broker_started(struct proc *p)
{
	struct project	*pr, *next;

	TAILQ_FOREACH_SAFE(pr, &projects, pr_entry, next) {
		if (pr->pr_closing)
			project_closed(pr);
		else if (pr->pr_listenfd != -1)
			project_to_broker(pr);
	}
}

/*
 * A new vmm knows no VM: have it adopt the running ones.  A VM the old
 * vmm was starting is adopted too (its answer, or its failure, ends the
 * start); one it was stopping is asked to stop again, or the stop that
 * died with the old vmm would never be answered.
 */
void
project_vmm_started(struct proc *p)
{
	struct project	*pr;
	struct vmstate	*vs;

	TAILQ_FOREACH(pr, &projects, pr_entry) {
		TAILQ_FOREACH(vs, &pr->pr_vms, vs_entry) {
			if (vs->vs_state == VM_STOPPING) {
				vm_stop(pr, vs);
				continue;
			}
			if (vs->vs_state == VM_RUNNING ||
			    vs->vs_state == VM_REACHABLE ||
			    vs->vs_state == VM_STARTING)
				vm_adopt(pr, vs);
		}
	}
}

/* A project that was up broker-only: its broker again, or it is down. */
static void
project_adopt_broker(struct project *pr)
{
	char	 err[CTL_TEXT_MAX];

	if (project_start_broker(pr, err, sizeof(err)) == -1) {
		log_warnx("%s: %s; the project, up broker-only before, is "
		    "left down", pr->pr_key, err);
		project_write_broker(pr);
		project_free(pr);
		return;
	}
	log_info("%s: adopted, broker only, on 127.0.0.1:%u", pr->pr_key,
	    pr->pr_conf.cp_broker_port);
}

/*
 * A project a previous castrad left up: listen for its guests again and
 * have vmm watch its VMs or, when none runs, bring back the broker it
 * was up with alone.  0: castrad has taken rootfd, even if it left the
 * project down.  -1: castrad keeps it already, under its key or its
 * state root.
 */
int
project_adopt(struct ctl_project *cp, uid_t owner, int rootfd,
    struct vmstates *vms, int broker_only)
{
	struct project	*pr;
	struct vmstate	*vs;
	char		 err[CTL_TEXT_MAX];
	int		 i;

	if (project_find(owner, cp->cp_id) != NULL)
		return (-1);
	TAILQ_FOREACH(pr, &projects, pr_entry)
		if (record_same_dir(pr->pr_rootfd, rootfd))
			return (-1);
	pr = project_alloc(cp, owner, rootfd);
	pr->pr_broker_only = broker_only;
	if (TAILQ_EMPTY(vms)) {
		project_adopt_broker(pr);
		return (0);
	}
	/*
	 * VMs that run make it up as a full up leaves it: another up
	 * must not start them a second time.
	 */
	project_set_broker_only(pr, 0);
	while ((vs = TAILQ_FIRST(vms)) != NULL) {
		TAILQ_REMOVE(vms, vs, vs_entry);
		TAILQ_INSERT_TAIL(&pr->pr_vms, vs, vs_entry);
		for (i = 0; i < 3; i++)
			if (vs->vs_images[i][0] != '\0')
				images_hold(vs->vs_images[i], pr);
	}
	if (project_start_broker(pr, err, sizeof(err)) == -1)
		log_warnx("%s: %s", pr->pr_key, err);
	project_vmm_started(proc_byid(PROC_VMM));
	log_info("%s: adopted running VMs", pr->pr_key);
	return (0);
}
