/*
 * Opening a project and writing a new one: castra_open(), castra_init()
 * and the small accessors of libcastra(3).
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "castra.h"
#include "config.h"
#include "state.h"

#ifndef CASTRA_DATADIR
#define CASTRA_DATADIR	"/usr/local/share/castra"
#endif

#define INIT_IMAGE_CONF		"default-image.conf"
#define INIT_IMAGE_NAME		"castra-default"
#define INIT_DEFAULT_NAME	"devbox"

static int	project_load(const char *, char *const *, struct castra *,
		    struct castra_error *);
static int	init_name(const char *, const char *, char *, size_t,
		    struct castra_error *);
static void	init_image_conf(char *, size_t, int *);
static int	init_write(const char *, const char *, int,
		    struct castra_error *);
static void	init_event(castra_event_fn *, void *, int, const char *, ...)
		    __attribute__((__format__ (printf, 4, 5)));

void
castra_seterr(struct castra_error *ce, int code, const char *fmt, ...)
{
	va_list	 ap;

	if (ce == NULL)
		return;
	ce->ce_code = code;
	va_start(ap, fmt);
	vsnprintf(ce->ce_message, sizeof(ce->ce_message), fmt, ap);
	va_end(ap);
}

int
castra_open(const struct castra_open_options *oo, struct castra **cp,
    struct castra_error *ce)
{
	struct castra	*c;
	struct stat	 sb;
	char		 found[PATH_MAX];
	const char	*path, *why;

	*cp = NULL;
	if (ce != NULL)
		memset(ce, 0, sizeof(*ce));
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		castra_seterr(ce, 70, "out of memory opening the project");
		return (-1);
	}
	if (oo != NULL && oo->oo_config != NULL) {
		path = oo->oo_config;
		why = NULL;
		if (stat(path, &sb) == -1 || access(path, R_OK) == -1)
			why = strerror(errno);
		else if (!S_ISREG(sb.st_mode))
			why = "not a regular file";
		if (why != NULL) {
			castra_seterr(ce, 66, "%s: %s; check the path given "
			    "with -c, or create a project with `castra init`",
			    path, why);
			goto fail;
		}
	} else {
		if (config_find(found, sizeof(found)) == -1) {
			castra_seterr(ce, 66, "no %s in this directory or "
			    "any above it; run `castra init` to create one, "
			    "or name one with -c", CONFIG_FILENAME);
			goto fail;
		}
		path = found;
	}
	if (project_load(path, oo != NULL ? oo->oo_defines : NULL, c,
	    ce) == -1)
		goto fail;
	*cp = c;
	return (0);

 fail:
	castra_close(c);
	return (-1);
}

static int
project_load(const char *path, char *const *defines, struct castra *c,
    struct castra_error *ce)
{
	char	*errors = NULL;
	size_t	 len;

	if ((c->c_cfg = config_parse_file(path, defines, &errors)) == NULL) {
		if (errors != NULL) {
			len = strlen(errors);
			while (len > 0 && errors[len - 1] == '\n')
				errors[--len] = '\0';
		}
		castra_seterr(ce, 65, "%s\nfix %s, then check it with "
		    "`castra check`", errors != NULL && *errors != '\0' ?
		    errors : "the project file could not be parsed", path);
		free(errors);
		return (-1);
	}
	free(errors);	/* warnings, if any, were for castra check */
	if (strlcpy(c->c_config, c->c_cfg->cf_path, sizeof(c->c_config)) >=
	    sizeof(c->c_config) ||
	    state_project_id(c->c_cfg, c->c_id, sizeof(c->c_id)) == -1 ||
	    state_root(c->c_cfg, c->c_root, sizeof(c->c_root)) == -1) {
		castra_seterr(ce, 70, "%s: cannot name its state root: %s; "
		    "set CASTRA_HOME to a shorter directory", path,
		    strerror(errno));
		return (-1);
	}
	return (0);
}

void
castra_close(struct castra *c)
{
	if (c == NULL)
		return;
	if (c->c_cfg != NULL)
		config_free(c->c_cfg);
	free(c);
}

const char *
castra_config_path(const struct castra *c)
{
	return (c->c_config);
}

const char *
castra_state_root(const struct castra *c)
{
	return (c->c_root);
}

static void
init_event(castra_event_fn *fn, void *arg, int type, const char *fmt, ...)
{
	struct castra_event	 ev;
	va_list			 ap;
	char			 text[PATH_MAX + 128];

	if (fn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	memset(&ev, 0, sizeof(ev));
	ev.ev_type = type;
	ev.ev_vm = "";
	ev.ev_text = text;
	fn(&ev, arg);
}

static int
init_name_ok(const char *name)
{
	const char	*p;

	if (!isalnum((unsigned char)name[0]) ||
	    strlen(name) > CONFIG_NAME_MAX || strcmp(name, "host") == 0)
		return (0);
	for (p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("_.-", *p) == NULL)
			return (0);
	return (1);
}

/*
 * The name of the project and of its VM: the one asked for, else the
 * folder's, made into a valid name.
 */
static int
init_name(const char *asked, const char *dir, char *buf, size_t len,
    struct castra_error *ce)
{
	const char	*base, *p;
	size_t		 i = 0;

	if (asked != NULL) {
		if (!init_name_ok(asked)) {
			castra_seterr(ce, 64, "-n %s: a name starts with a "
			    "letter or digit, holds only letters, digits, "
			    "'_', '.' and '-', has at most %d characters and "
			    "is not \"host\"; pick another", asked,
			    CONFIG_NAME_MAX);
			return (-1);
		}
		strlcpy(buf, asked, len);
		return (0);
	}
	base = (p = strrchr(dir, '/')) != NULL ? p + 1 : dir;
	for (p = base; *p != '\0' && i + 1 < len && i < CONFIG_NAME_MAX;
	    p++) {
		if (i == 0 && !isalnum((unsigned char)*p))
			continue;
		buf[i++] = isalnum((unsigned char)*p) ||
		    strchr("_.-", *p) != NULL ? *p : '-';
	}
	buf[i] = '\0';
	if (!init_name_ok(buf))
		strlcpy(buf, INIT_DEFAULT_NAME, len);
	return (0);
}

/*
 * Where the default image's description is: $CASTRA_IMAGE_DIR, next
 * to the running program (a build tree), or the installed data.
 */
/* buf has room for PATH_MAX bytes, as realpath(3) wants. */
static void
init_image_conf(char *buf, size_t len, int *found)
{
	char		 exe[PATH_MAX], dir[PATH_MAX], *p;
	const char	*env;
	ssize_t		 r;
	int		 n;

	*found = 1;
	if ((env = getenv("CASTRA_IMAGE_DIR")) != NULL && *env != '\0') {
		n = snprintf(dir, sizeof(dir), "%s/%s", env, INIT_IMAGE_CONF);
		if (n > 0 && (size_t)n < sizeof(dir) &&
		    realpath(dir, buf) != NULL)
			return;
	}
	if ((r = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0) {
		exe[r] = '\0';
		if ((p = strrchr(exe, '/')) != NULL) {
			*p = '\0';
			n = snprintf(dir, sizeof(dir), "%s/../image/%s", exe,
			    INIT_IMAGE_CONF);
			if (n > 0 && (size_t)n < sizeof(dir) &&
			    realpath(dir, buf) != NULL)
				return;
		}
	}
	if ((env = getenv("CASTRA_DATADIR")) == NULL || *env == '\0')
		env = CASTRA_DATADIR;
	snprintf(buf, len, "%s/image/%s", env, INIT_IMAGE_CONF);
	if (access(buf, R_OK) == -1)
		*found = 0;
}

/* Write the file whole, or leave what was there. */
static int
init_write(const char *path, const char *text, int force,
    struct castra_error *ce)
{
	char	 tmp[PATH_MAX];
	size_t	 len = strlen(text);
	ssize_t	 n;
	int	 fd;

	if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path,
	    (long)getpid()) >= (int)sizeof(tmp)) {
		castra_seterr(ce, 73, "%s: path too long", path);
		return (-1);
	}
	if (!force && access(path, F_OK) == 0) {
		castra_seterr(ce, 73, "%s already exists; edit it, or rerun "
		    "with --force to replace it", path);
		return (-1);
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644)) == -1) {
		castra_seterr(ce, 73, "%s: %s; check that its directory "
		    "exists and is writable", tmp, strerror(errno));
		return (-1);
	}
	n = write(fd, text, len);
	if (n != (ssize_t)len || fsync(fd) == -1 || close(fd) == -1) {
		castra_seterr(ce, 74, "%s: %s; check the free space", tmp,
		    n == -1 ? strerror(errno) : "short write");
		unlink(tmp);
		return (-1);
	}
	/* Without --force, link(2) refuses to replace a file made since. */
	if (!force) {
		if (link(tmp, path) == -1) {
			castra_seterr(ce, 73, "%s: %s; rerun with --force to "
			    "replace it", path, strerror(errno));
			unlink(tmp);
			return (-1);
		}
		unlink(tmp);
	} else if (rename(tmp, path) == -1) {
		castra_seterr(ce, 73, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return (-1);
	}
	return (0);
}

int
castra_init(const struct castra_init_options *io, castra_event_fn *fn,
    void *arg, struct castra_error *ce)
{
	struct config	 cfg;
	const char	*path, *base;
	char		 target[PATH_MAX], dir[PATH_MAX], canon[PATH_MAX];
	char		 name[CONFIG_NAME_MAX + 1], image[PATH_MAX];
	char		 root[PATH_MAX], text[PATH_MAX * 2 + 1024];
	char		*p;
	int		 found, n;

	if (ce != NULL)
		memset(ce, 0, sizeof(*ce));
	path = io != NULL && io->io_path != NULL ? io->io_path :
	    CONFIG_FILENAME;
	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir)) {
		castra_seterr(ce, 64, "%s: path too long", path);
		return (-1);
	}
	if ((p = strrchr(dir, '/')) == NULL)
		strlcpy(dir, ".", sizeof(dir));
	else if (p == dir)
		p[1] = '\0';
	else
		*p = '\0';
	base = (p = strrchr(path, '/')) != NULL ? p + 1 : path;
	if (*base == '\0' || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0) {
		castra_seterr(ce, 64, "%s: name a file, e.g. -o %s/%s", path,
		    dir, CONFIG_FILENAME);
		return (-1);
	}
	/* The state root hangs off the canonical folder, as it will later. */
	if (realpath(dir, canon) == NULL) {
		castra_seterr(ce, 73, "%s: %s; create the directory first",
		    dir, strerror(errno));
		return (-1);
	}
	n = snprintf(target, sizeof(target), "%s%s%s", canon,
	    strcmp(canon, "/") == 0 ? "" : "/", base);
	if (n < 0 || (size_t)n >= sizeof(target)) {
		castra_seterr(ce, 64, "%s: path too long", path);
		return (-1);
	}
	if (init_name(io != NULL ? io->io_name : NULL, canon, name,
	    sizeof(name), ce) == -1)
		return (-1);
	init_image_conf(image, sizeof(image), &found);

	snprintf(text, sizeof(text),
	    "# castra.conf(5) for the project \"%s\", written by castra init.\n"
	    "# Check it with `castra check`; boot it with `castra up`.\n"
	    "\n"
	    "project \"%s\"\n"
	    "\n"
	    "# Keep the state here instead of under $CASTRA_HOME:\n"
	    "#state \".castra\"\n"
	    "\n"
	    "# The broker that guests say hello to, on 127.0.0.1.\n"
	    "#broker port %d\n"
	    "\n"
	    "# How long castra down waits at each step.\n"
	    "#wait graceful %ds sigterm %ds sigkill %ds\n"
	    "\n"
	    "# The default guest image: a kernel, busybox and castra-agent.\n"
	    "include \"%s\"\n"
	    "\n"
	    "vm \"%s\" {\n"
	    "\timage \"%s\"\n"
	    "\tcpus %d\n"
	    "\tmemory %dM\n"
	    "\t# Reach the guest's port 22 at 127.0.0.1:2222:\n"
	    "\t#forward tcp 2222 to 22\n"
	    "}\n",
	    name, name, CONFIG_BROKER_PORT, CONFIG_WAIT_GRACEFUL,
	    CONFIG_WAIT_SIGTERM, CONFIG_WAIT_SIGKILL, image, name,
	    INIT_IMAGE_NAME, CONFIG_CPUS, CONFIG_MEMORY_MIB);

	memset(&cfg, 0, sizeof(cfg));
	cfg.cf_dir = canon;
	cfg.cf_project = name;
	if (state_root(&cfg, root, sizeof(root)) == -1) {
		castra_seterr(ce, 70, "cannot name the state root: %s; set "
		    "CASTRA_HOME to a shorter directory", strerror(errno));
		return (-1);
	}
	if (init_write(target, text, io != NULL && io->io_force, ce) == -1)
		return (-1);

	init_event(fn, arg, CASTRA_EV_MESSAGE, "Created %s.", target);
	init_event(fn, arg, CASTRA_EV_MESSAGE, "Its state will live in %s.",
	    root);
	if (!found)
		init_event(fn, arg, CASTRA_EV_WARNING, "%s does not exist "
		    "yet; build the default image with `make image`, or set "
		    "CASTRA_IMAGE_DIR to the directory that holds %s", image,
		    INIT_IMAGE_CONF);
	init_event(fn, arg, CASTRA_EV_MESSAGE, "Next: check it with "
	    "`castra check`, then run `castra up`.");
	return (0);
}

const char *
castra_project_name(const struct castra *c)
{
	return (c->c_cfg->cf_project);
}

/*
 * castra check: parse a project file as castra_open() would and render
 * the configuration as it was understood, every macro expanded and
 * every default written out, in a form that parses again.  On success
 * *text holds it; on failure *errors, when not NULL, holds every error
 * of the file, one "file:line: message" a line.  Free both.
 */
int
castra_check(const struct castra_open_options *oo, char **text,
    char **errors, struct castra_error *ce)
{
	struct config	*cf;
	FILE		*fp;
	char		*errs = NULL;
	size_t		 len;
	int		 saved;

	*text = NULL;
	*errors = NULL;
	if (ce != NULL)
		memset(ce, 0, sizeof(*ce));
	if ((cf = config_parse_file(oo != NULL ? oo->oo_config : NULL,
	    oo != NULL ? oo->oo_defines : NULL, &errs)) == NULL) {
		saved = errno;
		if (saved == ENOMEM)
			castra_seterr(ce, 70, "out of memory reading the "
			    "project file");
		else if (errs != NULL)	/* its first line, for ce */
			castra_seterr(ce, saved == EINVAL ? 65 : 66, "%.*s",
			    (int)strcspn(errs, "\n"), errs);
		else
			castra_seterr(ce, saved == EINVAL ? 65 : 66, "%s",
			    strerror(saved));
		*errors = errs;
		return (-1);
	}
	free(errs);
	if ((fp = open_memstream(text, &len)) == NULL)
		goto nomem;
	config_print(fp, cf);
	if (fclose(fp) == EOF)
		goto nomem;
	config_free(cf);
	return (0);

 nomem:
	config_free(cf);
	free(*text);
	*text = NULL;
	castra_seterr(ce, 70, "out of memory printing the configuration");
	return (-1);
}
