/*
 * What castrad reads back from a project's state root: whether a VM's
 * record names a live process, the end of a log, and the projects that
 * were up when a previous castrad went away.
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

/*
 * The directory of path below rootfd, reached without following a
 * symbolic link: the user who owns a state root may have swapped one
 * of its directories for a link, and castrad, as root, must read
 * nothing of another's through it.  *name is path's last component.
 */
static int
record_dir(int rootfd, const char *path, const char **name)
{
	char		 buf[PATH_MAX], *p, *next;
	int		 fd, dirfd;

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((p = strrchr(path, '/')) != NULL)
		*name = p + 1;
	else
		*name = path;
	if ((dirfd = dup(rootfd)) == -1)
		return (-1);
	for (p = buf; (next = strchr(p, '/')) != NULL; p = next + 1) {
		*next = '\0';
		fd = openat(dirfd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		close(dirfd);
		if ((dirfd = fd) == -1)
			return (-1);
	}
	return (dirfd);
}

/* Does the record at path name a process that still runs? */
int
record_alive(int rootfd, const char *path)
{
	json_t		*o;
	const char	*state, *name;
	int		 alive = 0, dirfd, rv;

	if ((dirfd = record_dir(rootfd, path, &name)) == -1)
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
	const char	*name;
	char		 chunk[TAIL_BYTES + 1], *p;
	off_t		 size, off;
	ssize_t		 n;
	int		 fd, dirfd;

	if ((dirfd = record_dir(rootfd, path, &name)) == -1)
		return (-1);
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	close(dirfd);
	if (fd == -1)
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

static int
adopt_conf(int rootfd, const char *id, struct ctl_project *cp, uid_t *owner)
{
	json_t		*o;
	const char	*s;

	if (state_read_json(rootfd, "project.json", &o) == -1)
		return (-1);
	memset(cp, 0, sizeof(*cp));
	strlcpy(cp->cp_id, id, sizeof(cp->cp_id));
	if ((s = json_string_value(json_object_get(o, "name"))) != NULL)
		strlcpy(cp->cp_name, s, sizeof(cp->cp_name));
	if ((s = json_string_value(json_object_get(o, "config"))) != NULL)
		strlcpy(cp->cp_config, s, sizeof(cp->cp_config));
	cp->cp_broker_port =
	    json_integer_value(json_object_get(o, "broker_port"));
	*owner = json_integer_value(json_object_get(o, "owner_uid"));
	json_decref(o);
	cp->cp_wait_graceful = CONFIG_WAIT_GRACEFUL;
	cp->cp_wait_sigterm = CONFIG_WAIT_SIGTERM;
	cp->cp_wait_sigkill = CONFIG_WAIT_SIGKILL;
	if (read_token(rootfd, "token", cp->cp_token,
	    sizeof(cp->cp_token)) == -1 || cp->cp_broker_port == 0)
		return (-1);
	return (0);
}

static void
adopt_project(int projectsfd, const char *id)
{
	struct ctl_project	 cp;
	struct vmstates		 vms = TAILQ_HEAD_INITIALIZER(vms);
	struct vmstate		*vs;
	uid_t			 owner;
	int			 rootfd;

	if ((rootfd = openat(projectsfd, id, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC | O_NOFOLLOW)) == -1)
		return;
	if (adopt_conf(rootfd, id, &cp, &owner) == -1 ||
	    adopt_vms(rootfd, &vms) == 0) {
		close(rootfd);
		return;
	}
	if (project_adopt(&cp, owner, rootfd, &vms) == -1) {
		while ((vs = TAILQ_FIRST(&vms)) != NULL) {
			TAILQ_REMOVE(&vms, vs, vs_entry);
			free(vs);
		}
		close(rootfd);
	}
}

/*
 * Take over the projects whose VMs still run, as a castrad that went
 * away left them.
 *
 * XXX Only projects under CASTRA_HOME are found; a project whose
 * castra.conf names its own state directory is adopted at its next
 * `castra up` or `castra down` instead.
 */
void
project_adopt_all(const char *home)
{
	struct dirent	*de;
	DIR		*dir;
	char		 path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/projects", home);
	if ((dir = opendir(path)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL)
		if (de->d_name[0] != '.')
			adopt_project(dirfd(dir), de->d_name);
	closedir(dir);
}
