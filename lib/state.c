/*
 * The state root of a project: its location, its directories, atomic
 * JSON records, and process identity checks.  See state.h for the
 * files and their writers.
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sha2.h>

#include "log.h"
#include "state.h"

static const char *const state_dirs[] = {
	STATE_VMS, STATE_OVERLAYS, STATE_RUN, STATE_HANDSHAKES, STATE_LOGS,
	STATE_LOGS_BUS
};

/* $CASTRA_HOME, else ~/.castra; always absolute. */
int
state_home(char *buf, size_t len)
{
	const char	*env, *home;
	struct passwd	*pw;
	char		 cwd[PATH_MAX];
	int		 n;

	if ((env = getenv("CASTRA_HOME")) != NULL && *env != '\0') {
		if (*env == '/')
			n = snprintf(buf, len, "%s", env);
		else {
			/* A relative home must not move with the cwd. */
			if (getcwd(cwd, sizeof(cwd)) == NULL)
				return (-1);
			n = snprintf(buf, len, "%s/%s", cwd, env);
		}
	} else if (getuid() == 0) {
		/*
		 * root shares the system's castrad, whose children run as
		 * _castra and could not reach into /root.
		 */
		n = snprintf(buf, len, "%s", STATE_HOME_SYSTEM);
	} else {
		if ((home = getenv("HOME")) == NULL || *home != '/') {
			if ((pw = getpwuid(getuid())) == NULL) {
				errno = ENOENT;
				return (-1);
			}
			home = pw->pw_dir;
		}
		n = snprintf(buf, len, "%s/%s", home, STATE_HOME_DEFAULT);
	}
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	return (0);
}

static void
state_slug(const struct config *cfg, char *slug)
{
	const char	*name, *p;
	size_t		 i = 0;

	name = cfg->cf_project;
	if (name == NULL || *name == '\0') {
		/* No name: the folder's, which the parser made canonical. */
		name = (p = strrchr(cfg->cf_dir, '/')) != NULL ? p + 1 :
		    cfg->cf_dir;
	}
	for (p = name; *p != '\0' && i < STATE_SLUG_MAX; p++)
		slug[i++] = isalnum((unsigned char)*p) ?
		    tolower((unsigned char)*p) : '-';
	if (i == 0)
		slug[i++] = '-';
	slug[i] = '\0';
}

/* "<slug>-<hash>": the project's name in CASTRA_HOME and for castrad. */
int
state_project_id(const struct config *cfg, char *buf, size_t len)
{
	char	 slug[STATE_SLUG_MAX + 1];
	char	 hex[SHA256_DIGEST_STRING_LENGTH];
	int	 n;

	if (cfg->cf_dir == NULL) {
		errno = EINVAL;
		return (-1);
	}
	state_slug(cfg, slug);
	SHA256Data((const uint8_t *)cfg->cf_dir, strlen(cfg->cf_dir), hex);
	n = snprintf(buf, len, "%s-%.*s", slug, STATE_HASH_LEN, hex);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	return (0);
}

int
state_root(const struct config *cfg, char *buf, size_t len)
{
	char	 home[PATH_MAX], id[STATE_ID_MAX];
	int	 n;

	if (cfg->cf_statedir != NULL && *cfg->cf_statedir != '\0') {
		if (cfg->cf_statedir[0] == '/')
			n = snprintf(buf, len, "%s", cfg->cf_statedir);
		else
			n = snprintf(buf, len, "%s/%s", cfg->cf_dir,
			    cfg->cf_statedir);
	} else {
		if (state_home(home, sizeof(home)) == -1 ||
		    state_project_id(cfg, id, sizeof(id)) == -1)
			return (-1);
		n = snprintf(buf, len, "%s/projects/%s", home, id);
	}
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	return (0);
}

/* mkdir -p, mode 0700 for what it creates. */
int
state_mkpath(const char *path)
{
	char	 buf[PATH_MAX], *p;

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	for (p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		if (p[-1] != '/') {
			*p = '\0';
			if (mkdir(buf, 0700) == -1 && errno != EEXIST)
				return (-1);
			*p = path[p - buf];
		}
		if (*p == '\0')
			break;
	}
	return (0);
}

/* Create the state root and its directories. */
int
state_mkdirs(const char *root)
{
	char	 path[PATH_MAX];
	size_t	 i;
	int	 n;

	if (state_mkpath(root) == -1)
		return (-1);
	for (i = 0; i < sizeof(state_dirs) / sizeof(state_dirs[0]); i++) {
		n = snprintf(path, sizeof(path), "%s/%s", root, state_dirs[i]);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			errno = ENAMETOOLONG;
			return (-1);
		}
		if (mkdir(path, 0700) == -1 && errno != EEXIST)
			return (-1);
	}
	return (0);
}

/*
 * Write all of buf, going on after a signal or a short write: records
 * here, frames on the bus, an image as castra-imgd copies it.
 */
int
state_write_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		p += n;
		len -= n;
	}
	return (0);
}

/*
 * Replace relpath (under dirfd) with the compact JSON of obj: a reader
 * sees the old record or the new one, never half of either.
 */
int
state_write_json(int dirfd, const char *relpath, json_t *obj, mode_t mode)
{
	char	 tmp[PATH_MAX], *text = NULL;
	int	 fd = -1, n, saved;

	n = snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", relpath, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER)) ==
	    NULL) {
		errno = EINVAL;
		return (-1);
	}
	/* A leftover from a crashed writer of the same pid is garbage. */
	(void)unlinkat(dirfd, tmp, 0);
	if ((fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode)) == -1)
		goto fail;
	if (fchmod(fd, mode) == -1 ||
	    state_write_all(fd, text, strlen(text)) == -1 ||
	    state_write_all(fd, "\n", 1) == -1 ||
	    fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, relpath) == -1)
		goto fail;
	free(text);
	return (0);

 fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	(void)unlinkat(dirfd, tmp, 0);
	free(text);
	errno = saved;
	return (-1);
}

/*
 * Read a record written by someone else, trusting nothing: a regular
 * file, at most STATE_JSON_MAX bytes, holding one JSON object.  On
 * failure errno says why (ENOENT: no record; EFBIG: too large;
 * EBADMSG: not a JSON object, and err says where).
 */
int
state_read_json_err(int dirfd, const char *relpath, json_t **objp,
    char *err, size_t errlen)
{
	struct stat	 sb;
	json_error_t	 je;
	json_t		*obj;
	char		*buf = NULL;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd, saved;

	*objp = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if ((fd = openat(dirfd, relpath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) == -1)
		return (-1);
	if (fstat(fd, &sb) == -1)
		goto fail;
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		errno = EBADMSG;
		goto fail;
	}
	if (sb.st_size > STATE_JSON_MAX) {
		errno = EFBIG;
		goto fail;
	}
	/* One more byte than the cap, to notice a file still growing. */
	if ((buf = malloc(STATE_JSON_MAX + 1)) == NULL)
		goto fail;
	while (off <= STATE_JSON_MAX) {
		n = read(fd, buf + off, STATE_JSON_MAX + 1 - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		if (n == 0)
			break;
		off += n;
	}
	if (off > STATE_JSON_MAX) {
		errno = EFBIG;
		goto fail;
	}
	close(fd);
	obj = json_loadb(buf, off, JSON_REJECT_DUPLICATES, &je);
	free(buf);
	buf = NULL;
	if (obj == NULL || !json_is_object(obj)) {
		if (obj == NULL)
			snprintf(err, errlen, "line %d column %d: %s",
			    je.line, je.column, je.text);
		else
			snprintf(err, errlen, "not a JSON object");
		json_decref(obj);
		errno = EBADMSG;
		return (-1);
	}
	*objp = obj;
	return (0);

 fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	free(buf);
	errno = saved;
	return (-1);
}

int
state_read_json(int dirfd, const char *relpath, json_t **objp)
{
	char	 err[256];
	int	 saved;

	if (state_read_json_err(dirfd, relpath, objp, err,
	    sizeof(err)) == 0)
		return (0);
	saved = errno;
	if (saved == EBADMSG)
		log_warnx("%s: unreadable record, %s", relpath, err);
	errno = saved;
	return (-1);
}

/*
 * Parse the text of /proc/PID/stat: the state (field 3) and the start
 * time in clock ticks since boot (field 22).  The command name (field
 * 2) is chosen by the process and may hold spaces and parentheses, so
 * the fields are counted from the last ')'.
 */
int
proc_stat_parse(const char *buf, size_t len, char *statep,
    uint64_t *startp)
{
	const char		*p, *end = buf + len, *close = NULL;
	unsigned long long	 v = 0;
	int			 field, digits = 0;

	for (p = buf; p < end; p++)
		if (*p == ')')
			close = p;
	if (close == NULL || end - close < 4 || close[1] != ' ')
		goto bad;
	*statep = close[2];
	/* close[2] is field 3; step over 19 separators to field 22. */
	p = close + 2;
	for (field = 3; field < 22; p++) {
		if (p >= end)
			goto bad;
		if (*p == ' ')
			field++;
	}
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > (~0ULL - 9) / 10)
			goto bad;
		v = v * 10 + (*p - '0');
		digits++;
	}
	if (digits == 0 || (p < end && *p != ' ' && *p != '\n'))
		goto bad;
	*startp = v;
	return (0);

 bad:
	errno = EINVAL;
	return (-1);
}

static int
proc_stat_read(pid_t pid, char *statep, uint64_t *startp)
{
	char	 path[64], buf[2048];
	ssize_t	 n;
	size_t	 off = 0;
	int	 fd;

	if (pid <= 0) {
		errno = ESRCH;
		return (-1);
	}
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			errno = ESRCH;
		return (-1);
	}
	while (off < sizeof(buf)) {
		n = read(fd, buf + off, sizeof(buf) - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += n;
	}
	close(fd);
	return (proc_stat_parse(buf, off, statep, startp));
}

/* The start time of pid (clock ticks since boot), 0 with errno if none. */
uint64_t
proc_starttime(pid_t pid)
{
	uint64_t	 start;
	char		 state;

	if (proc_stat_read(pid, &state, &start) == -1)
		return (0);
	return (start);
}

/*
 * Is pid still the process that was recorded with this start time?  A
 * pid alone may have been reused; a zombie has stopped running.
 */
int
state_pid_matches(pid_t pid, uint64_t starttime)
{
	uint64_t	 start;
	char		 state;

	if (pid <= 0 || starttime == 0)
		return (0);
	if (proc_stat_read(pid, &state, &start) == -1)
		return (0);
	return (start == starttime && state != 'Z' && state != 'X');
}

/*
 * The age of a handshake taken at ts, seen at now; -1 when ts lies in
 * the future, which the host's own clock never writes.
 */
int64_t
state_age_ms(int64_t ts, int64_t now)
{
	return (ts > now ? -1 : now - ts);
}

/* Fresh: at most STATE_FRESH_MS old, the bound included. */
int
state_fresh(int64_t age)
{
	return (age >= 0 && age <= STATE_FRESH_MS);
}

int64_t
state_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}
