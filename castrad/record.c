/*
 * What castrad reads back from a project's state root: whether a VM's
 * record names a live process, the end of a log, and the projects that
 * were up when a previous castrad went away.
 *
 * Those are found under home/projects/, or, for a state root elsewhere
 * (a user's ~/.castra, a `state` directory), by a record castrad keeps
 * while the project is up: home/adopt/<key> names its owner, its id
 * and the path of its state root.  Under systemd, the state root's
 * descriptor is kept in the service's descriptor store as well, under
 * the same key: the path, opened again in the service's namespace,
 * may lead to a read-only view of the directory (ProtectHome=), where
 * the descriptor the owner's castra sent is the owner's own.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "castrad.h"
#include "log.h"
#include "proto.h"
#include "state.h"

#define TAIL_BYTES	4096

static int	 record_projectsfd = -1;	/* home/projects */
static int	 record_adoptfd = -1;		/* home/adopt */

/* Does the record at path name a process that still runs? */
int
record_alive(int rootfd, const char *path)
{
	json_t		*o;
	const char	*state, *name;
	int		 alive = 0, dirfd, rv;

	/*
	 * The user who owns a state root may have swapped one of its
	 * directories for a link: castrad, as root, must read nothing of
	 * another's through it.
	 */
	if ((dirfd = beneath_dir(rootfd, path, &name)) == -1)
		return (0);
	rv = state_read_json(dirfd, name, &o);
	close(dirfd);
	if (rv == -1)
		return (0);
	state = json_string_value(json_object_get(o, "state"));
	if (state != NULL && (strcmp(state, "running") == 0 ||
	    strcmp(state, "starting") == 0))
		alive = state_pid_matches(
		    json_integer_value(json_object_get(o, "pid")),
		    json_integer_value(json_object_get(o, "start_time")));
	json_decref(o);
	return (alive);
}

/* The last lines of a file, read from its end only. */
int
record_tail(int rootfd, const char *path, int lines, char *buf,
    size_t len)
{
	char		 chunk[TAIL_BYTES + 1], *p;
	off_t		 size, off;
	ssize_t		 n;
	int		 fd;

	/*
	 * Through no link, and not a FIFO, which would block, nor
	 * another's file linked here.
	 */
	if ((fd = beneath_open(rootfd, path, O_RDONLY, 0)) == -1)
		return (-1);
	size = lseek(fd, 0, SEEK_END);
	off = size > TAIL_BYTES ? size - TAIL_BYTES : 0;
	n = pread(fd, chunk, TAIL_BYTES, off);
	close(fd);
	if (n < 0)
		return (-1);
	chunk[n] = '\0';
	/* Trailing newlines do not count as lines. */
	while (n > 0 && chunk[n - 1] == '\n')
		chunk[--n] = '\0';
	for (p = chunk + n; p > chunk && lines > 0; p--)
		if (p[-1] == '\n' && --lines == 0)
			break;
	strlcpy(buf, p, len);
	return (0);
}

/* Are the two descriptors the same directory? */
int
record_same_dir(int fd1, int fd2)
{
	struct stat	 st1, st2;

	if (fstat(fd1, &st1) == -1 || fstat(fd2, &st2) == -1)
		return (0);
	return (st1.st_dev == st2.st_dev && st1.st_ino == st2.st_ino);
}

/*
 * The directory at an absolute path, opened from "/" never through a
 * symbolic link: the owner of a state root
 * may since have put a link on its path, to lead castrad, as root, to
 * someone else's directory.
 */
static int
record_open_path(const char *path)
{
	int	 rootfd, fd;

	if (path[0] != '/') {
		errno = EINVAL;
		return (-1);
	}
	if ((rootfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (-1);
	fd = beneath_open(rootfd, path + 1, O_RDONLY | O_DIRECTORY, 0);
	close(rootfd);
	return (fd);
}

/*
 * Keep home/adopt/<key> while pr is up, and with it the state root in
 * systemd's store, unless the state root is under home/projects/, where
 * a restarted castrad looks anyway.  Called again when the owner sends
 * another descriptor of the directory, which replaces the kept one.
 * The path is
 * the kernel's name for the descriptor castra sent, which holds no
 * symbolic link; one that does not lead back to the same directory (it
 * was removed, or lies in another mount namespace) would adopt
 * nothing, and is not kept.
 */
void
record_keep(struct project *pr)
{
	json_t		*o;
	char		 link[64], path[PATH_MAX];
	ssize_t		 n;
	int		 fd, home;

	if (record_adoptfd == -1)
		return;
	if ((fd = openat(record_projectsfd, pr->pr_conf.cp_id, O_RDONLY |
	    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) != -1) {
		home = record_same_dir(fd, pr->pr_rootfd);
		close(fd);
		if (home)
			return;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", pr->pr_rootfd);
	if ((n = readlink(link, path, sizeof(path) - 1)) == -1) {
		log_warn("%s: readlink %s", pr->pr_key, link);
		return;
	}
	path[n] = '\0';
	if ((fd = record_open_path(path)) == -1 ||
	    !record_same_dir(fd, pr->pr_rootfd)) {
		log_warnx("%s: the state root is not found again at %s; a "
		    "restarted castrad will not adopt it", pr->pr_key, path);
		if (fd != -1)
			close(fd);
		return;
	}
	close(fd);
	o = json_pack("{s:I, s:s, s:s}", "owner_uid",
	    (json_int_t)pr->pr_owner, "id", pr->pr_conf.cp_id,
	    "state_root", path);
	if (o == NULL || state_write_json(record_adoptfd, pr->pr_key, o,
	    0600) == -1)
		log_warnx("%s: cannot write adopt/%s; a restarted castrad "
		    "will not adopt it", pr->pr_key, pr->pr_key);
	else
		sd_store(pr->pr_key, pr->pr_rootfd);
	json_decref(o);
}

/* pr is down: nothing of it is left to adopt. */
void
record_forget(struct project *pr)
{
	sd_unstore(pr->pr_key);
	if (record_adoptfd != -1 &&
	    unlinkat(record_adoptfd, pr->pr_key, 0) == -1 && errno != ENOENT)
		log_warn("%s: adopt/%s", pr->pr_key, pr->pr_key);
}

static int
read_token(int rootfd, const char *path, char *token, size_t len)
{
	ssize_t	 n;
	int	 fd;

	if ((fd = openat(rootfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) ==
	    -1)
		return (-1);
	n = read(fd, token, len - 1);
	close(fd);
	if (n < TOKEN_HEX_LEN)
		return (-1);
	token[TOKEN_HEX_LEN] = '\0';
	return (0);
}

static void
forwards_from_record(json_t *o, struct ctl_vm *cv)
{
	json_t		*fw;
	size_t		 i;

	json_array_foreach(json_object_get(o, "forwards"), i, fw) {
		if (cv->cv_nforwards == CONFIG_FORWARDS_MAX)
			break;
		cv->cv_forwards[cv->cv_nforwards].cf_proto =
		    strcmp(json_string_value(json_object_get(fw, "proto")) ?
		    json_string_value(json_object_get(fw, "proto")) : "tcp",
		    "udp") == 0 ? FORWARD_UDP : FORWARD_TCP;
		strlcpy(cv->cv_forwards[cv->cv_nforwards].cf_bind,
		    json_string_value(json_object_get(fw, "bind")) ?
		    json_string_value(json_object_get(fw, "bind")) :
		    "127.0.0.1", sizeof(cv->cv_forwards[0].cf_bind));
		cv->cv_forwards[cv->cv_nforwards].cf_host =
		    json_integer_value(json_object_get(fw, "host"));
		cv->cv_forwards[cv->cv_nforwards].cf_guest =
		    json_integer_value(json_object_get(fw, "guest"));
		cv->cv_nforwards++;
	}
}

/* The image a cache path names: <hex> of .../images/sha256/<hex>. */
static void
adopt_image(struct vmstate *vs, const char *path)
{
	const char	*p;
	int		 i;

	if ((p = strstr(path, "/images/sha256/")) == NULL)
		return;
	p += strlen("/images/sha256/");
	if (strlen(p) != SHA256_HEX_LEN)
		return;
	for (i = 0; i < 3; i++)
		if (vs->vs_images[i][0] == '\0') {
			strlcpy(vs->vs_images[i], p, sizeof(vs->vs_images[i]));
			return;
		}
}

/*
 * The images an adopted VM uses, so that no prune takes them: its
 * kernel and initrd from its command line, its disk from the backing
 * file named in its overlay's qcow2 header.
 */
static void
adopt_images(int rootfd, struct vmstate *vs, json_t *argv)
{
	unsigned char	 hdr[20];
	char		 path[PATH_MAX];
	uint64_t	 off;
	uint32_t	 len;
	json_t		*arg;
	size_t		 i;
	int		 fd;

	json_array_foreach(argv, i, arg)
		if (json_is_string(arg))
			adopt_image(vs, json_string_value(arg));
	snprintf(path, sizeof(path), "overlays/%s.qcow2",
	    vs->vs_conf.cv_name);
	if ((fd = openat(rootfd, path, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1)
		return;
	if (pread(fd, hdr, sizeof(hdr), 0) == sizeof(hdr) &&
	    memcmp(hdr, "QFI\xfb", 4) == 0) {
		memcpy(&off, hdr + 8, sizeof(off));
		memcpy(&len, hdr + 16, sizeof(len));
		off = be64toh(off);
		len = be32toh(len);
		if (off != 0 && len > 0 && len < sizeof(path) &&
		    pread(fd, path, len, off) == (ssize_t)len) {
			path[len] = '\0';
			adopt_image(vs, path);
		}
	}
	close(fd);
}

/* A running VM of an adopted project, from its record. */
static struct vmstate *
adopt_vm(int rootfd, const char *file)
{
	struct vmstate	*vs;
	json_t		*o;
	const char	*name;
	char		 path[PATH_MAX];

	snprintf(path, sizeof(path), "vms/%s", file);
	if (!record_alive(rootfd, path) ||
	    state_read_json(rootfd, path, &o) == -1)
		return (NULL);
	name = json_string_value(json_object_get(o, "name"));
	if (name == NULL || !proto_name_valid(name) ||
	    (vs = calloc(1, sizeof(*vs))) == NULL) {
		json_decref(o);
		return (NULL);
	}
	strlcpy(vs->vs_conf.cv_name, name, sizeof(vs->vs_conf.cv_name));
	vs->vs_conf.cv_cpus = json_integer_value(json_object_get(o, "cpus"));
	vs->vs_conf.cv_memory_mib =
	    json_integer_value(json_object_get(o, "memory_mib"));
	vs->vs_pid = json_integer_value(json_object_get(o, "pid"));
	forwards_from_record(o, &vs->vs_conf);
	adopt_images(rootfd, vs, json_object_get(o, "argv"));
	vs->vs_state = VM_RUNNING;
	snprintf(path, sizeof(path), "run/%s.token", name);
	if (read_token(rootfd, path, vs->vs_token, sizeof(vs->vs_token)) ==
	    -1)
		vs->vs_token[0] = '\0';
	json_decref(o);
	return (vs);
}

static int
adopt_vms(int rootfd, struct vmstates *vms)
{
	struct vmstate	*vs;
	struct dirent	*de;
	DIR		*dir;
	size_t		 len;
	int		 fd, n = 0;

	if ((fd = openat(rootfd, "vms", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || (dir = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return (0);
	}
	while ((de = readdir(dir)) != NULL) {
		len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		if ((vs = adopt_vm(rootfd, de->d_name)) != NULL) {
			TAILQ_INSERT_TAIL(vms, vs, vs_entry);
			n++;
		}
	}
	closedir(dir);
	return (n);
}

/*
 * The project of a state root, from its project.json, which must name
 * the owner that the directory has: the owner may rewrite the file,
 * but not give the directory away.  On failure why says what is wrong.
 */
static int
adopt_conf(int rootfd, const char *id, uid_t owner, struct ctl_project *cp,
    int *broker_only, char *why, size_t whylen)
{
	struct stat	 st;
	json_t		*o;
	const char	*s;
	uid_t		 said;

	if (fstat(rootfd, &st) == -1 || st.st_uid != owner) {
		snprintf(why, whylen, "the state root is not uid %u's",
		    (unsigned int)owner);
		return (-1);
	}
	if (state_read_json(rootfd, "project.json", &o) == -1) {
		snprintf(why, whylen, "project.json: %s", strerror(errno));
		return (-1);
	}
	memset(cp, 0, sizeof(*cp));
	strlcpy(cp->cp_id, id, sizeof(cp->cp_id));
	if ((s = json_string_value(json_object_get(o, "name"))) != NULL)
		strlcpy(cp->cp_name, s, sizeof(cp->cp_name));
	if ((s = json_string_value(json_object_get(o, "config"))) != NULL)
		strlcpy(cp->cp_config, s, sizeof(cp->cp_config));
	cp->cp_broker_port =
	    json_integer_value(json_object_get(o, "broker_port"));
	said = json_integer_value(json_object_get(o, "owner_uid"));
	*broker_only = json_is_true(json_object_get(o, "broker_only"));
	json_decref(o);
	if (said != owner) {
		snprintf(why, whylen, "project.json names uid %u, the state "
		    "root is uid %u's", (unsigned int)said,
		    (unsigned int)owner);
		return (-1);
	}
	cp->cp_wait_graceful = CONFIG_WAIT_GRACEFUL;
	cp->cp_wait_sigterm = CONFIG_WAIT_SIGTERM;
	cp->cp_wait_sigkill = CONFIG_WAIT_SIGKILL;
	if (read_token(rootfd, "token", cp->cp_token,
	    sizeof(cp->cp_token)) == -1 || cp->cp_broker_port == 0) {
		snprintf(why, whylen, "no token or no broker port");
		return (-1);
	}
	return (0);
}

/*
 * Adopt the project of id and owner in rootfd if a VM of it still
 * runs, or if it was up broker-only: 1, and rootfd is castrad's.
 * 0: neither.  -1: why says what is wrong.
 */
static int
adopt_project(int rootfd, const char *id, uid_t owner, char *why,
    size_t whylen)
{
	struct ctl_project	 cp;
	struct vmstates		 vms = TAILQ_HEAD_INITIALIZER(vms);
	struct vmstate		*vs;
	int			 broker_only;

	if (!proto_id_valid(id)) {
		snprintf(why, whylen, "%s is not a project id", id);
		return (-1);
	}
	if (adopt_conf(rootfd, id, owner, &cp, &broker_only, why,
	    whylen) == -1)
		return (-1);
	if (adopt_vms(rootfd, &vms) == 0 && !broker_only)
		return (0);
	if (project_adopt(&cp, owner, rootfd, &vms, broker_only) == -1) {
		while ((vs = TAILQ_FIRST(&vms)) != NULL) {
			TAILQ_REMOVE(&vms, vs, vs_entry);
			free(vs);
		}
		snprintf(why, whylen, "castrad keeps that project already");
		return (-1);
	}
	return (1);
}

/* A state root under home/projects/: its owner is the directory's. */
static void
adopt_home(const char *id)
{
	struct stat	 st;
	char		 why[CTL_TEXT_MAX];
	int		 rootfd;

	if ((rootfd = openat(record_projectsfd, id, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC | O_NOFOLLOW)) == -1)
		return;
	if (fstat(rootfd, &st) == -1) {
		close(rootfd);
		return;
	}
	switch (adopt_project(rootfd, id, st.st_uid, why, sizeof(why))) {
	case -1:
		/* A project that never came up has no project.json. */
		log_debug("%s: projects/%s: %s", __func__, id, why);
		/* FALLTHROUGH */
	case 0:
		close(rootfd);
	}
}

/*
 * A state root kept in home/adopt/name.  The record is castrad's own,
 * but the path in it leads through the owner's directories: it must
 * still reach, without a symbolic link, a directory of that owner.
 * systemd's store may hold the descriptor of that directory under the
 * same name, which is used instead of the path; either way the owner
 * must still own it.  Otherwise, or when no VM of it runs any more
 * and it was not up broker-only, the record goes, and the stored
 * descriptor with it.
 */
static void
adopt_record(const char *name)
{
	json_t		*o = NULL;
	const char	*id, *path;
	char		 key[PROJECT_KEY_MAX], why[CTL_TEXT_MAX];
	size_t		 len = strlen(name);
	uid_t		 owner;
	int		 rootfd = -1, rv = -1;

	/* What a state_write_json cut short left is no record. */
	if (len > 4 && strcmp(name + len - 4, ".tmp") == 0) {
		(void)unlinkat(record_adoptfd, name, 0);
		return;
	}
	if (state_read_json(record_adoptfd, name, &o) == -1) {
		snprintf(why, sizeof(why), "%s", strerror(errno));
		goto drop;
	}
	id = json_string_value(json_object_get(o, "id"));
	path = json_string_value(json_object_get(o, "state_root"));
	owner = json_integer_value(json_object_get(o, "owner_uid"));
	if (id == NULL || path == NULL || !proto_id_valid(id) ||
	    (size_t)snprintf(key, sizeof(key), "%u.%s", (unsigned int)owner,
	    id) >= sizeof(key) || strcmp(key, name) != 0) {
		snprintf(why, sizeof(why), "not a record of castrad's");
		goto drop;
	}
	if ((rootfd = sd_take(name)) == -1 &&
	    (rootfd = record_open_path(path)) == -1) {
		snprintf(why, sizeof(why), "%s: %s", path, strerror(errno));
		goto drop;
	}
	if ((rv = adopt_project(rootfd, id, owner, why, sizeof(why))) == 1) {
		json_decref(o);
		return;
	}

 drop:
	if (rv == -1)
		log_warnx("adopt/%s: %s; not adopted, record removed", name,
		    why);
	else
		log_info("adopt/%s: no VM of it runs and it was not up "
		    "broker-only; record removed", name);
	if (rootfd != -1)
		close(rootfd);
	json_decref(o);
	sd_unstore(name);
	if (unlinkat(record_adoptfd, name, 0) == -1)
		log_warn("adopt/%s", name);
}

/* Call fn with the name of each entry of dirfd but the hidden ones. */
static void
adopt_each(int dirfd, void (*fn)(const char *))
{
	struct dirent	*de;
	DIR		*dir;
	int		 fd;

	if ((fd = dup(dirfd)) == -1)
		return;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(dir)) != NULL)
		if (de->d_name[0] != '.')
			fn(de->d_name);
	closedir(dir);
}

/*
 * Take over the projects whose VMs still run, or that were up
 * broker-only, as a castrad that went away left them: those under
 * home/projects/, then those home/adopt/ remembers.
 */
void
project_adopt_all(const char *home)
{
	char	 path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/projects", home);
	if ((record_projectsfd = open(path, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		log_warn("%s", path);
	snprintf(path, sizeof(path), "%s/adopt", home);
	if ((record_adoptfd = open(path, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		log_warn("%s", path);
	adopt_each(record_projectsfd, adopt_home);
	adopt_each(record_adoptfd, adopt_record);
}
