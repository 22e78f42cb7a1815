/*
 * castra logs --bootstrap: the latest bootstrap run log of each VM.
 * The logs are <state root>/logs/bootstrap/<vm>-<ms>-<8 hex>.json,
 * written by bootstrap.c; the newest is the one with the largest <ms>.
 */

#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootstrap.h"
#include "castra.h"
#include "config.h"
#include "state.h"

/* If name is a log of vm, its time in ms; else -1. */
static long long
bslog_time(const char *name, const char *vm)
{
	size_t		 vlen = strlen(vm), i;
	const char	*p, *dash;
	long long	 ms = 0;

	if (strncmp(name, vm, vlen) != 0 || name[vlen] != '-')
		return (-1);
	p = name + vlen + 1;
	if ((dash = strchr(p, '-')) == NULL || dash == p || dash - p > 15)
		return (-1);
	for (; p < dash; p++) {
		if (*p < '0' || *p > '9')
			return (-1);
		ms = ms * 10 + (*p - '0');
	}
	for (i = 1; i <= 8; i++)
		if (strchr("0123456789abcdef", dash[i]) == NULL ||
		    dash[i] == '\0')
			return (-1);
	if (strcmp(dash + 9, ".json") != 0)
		return (-1);
	return (ms);
}

static int
bslog_latest(DIR *d, const char *vm, char *best, size_t len)
{
	struct dirent	*de;
	long long	 t, bt = -1;

	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if ((t = bslog_time(de->d_name, vm)) == -1)
			continue;
		if (t > bt || (t == bt && strcmp(de->d_name, best) > 0)) {
			bt = t;
			strlcpy(best, de->d_name, len);
		}
	}
	return (bt == -1 ? -1 : 0);
}

static int
bslog_show(int dfd, const char *dir, const char *name, const char *vm,
    castra_log_fn *fn, void *arg)
{
	json_t	*o;
	char	 line[PATH_MAX + 16], *text, *p, *nl;
	int	 rv = 0;

	snprintf(line, sizeof(line), "%s/%s", dir, name);
	if (fn(vm, line, strlen(line), arg) == -1)
		return (-1);
	if (state_read_json(dfd, name, &o) == -1) {
		snprintf(line, sizeof(line), "(unreadable: %s)",
		    strerror(errno));
		return (fn(vm, line, strlen(line), arg));
	}
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (text == NULL)
		return (0);
	for (p = text; p != NULL && *p != '\0' && rv == 0; p = nl) {
		if ((nl = strchr(p, '\n')) != NULL)
			*nl++ = '\0';
		rv = fn(vm, p, strlen(p), arg);
	}
	free(text);
	return (rv);
}

int
castra_bootstrap_logs(struct castra *c, const char *vm, castra_log_fn *fn,
    void *arg, struct castra_error *ce)
{
	struct instance	*insts = NULL;
	char		 dir[PATH_MAX], best[NAME_MAX + 1];
	size_t		 n = 0, i;
	DIR		*d = NULL;
	int		 shown = 0, found = vm == NULL, dfd = -1;

	memset(ce, 0, sizeof(*ce));
	if (config_instances(c->c_cfg, &insts, &n) == -1) {
		castra_seterr(ce, 70, "out of memory");
		return (-1);
	}
	for (i = 0; i < n && vm != NULL; i++)
		if (strcmp(insts[i].in_name, vm) == 0)
			found = 1;
	if (!found) {
		castra_seterr(ce, 64, "%s: no such VM in %s", vm,
		    c->c_config);
		goto fail;
	}
	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", c->c_root,
	    BOOTSTRAP_LOGDIR) >= sizeof(dir))
		errno = ENAMETOOLONG;
	else if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1)
		d = fdopendir(dup(dfd));
	if (d == NULL) {
		castra_seterr(ce, 66, "%s: no bootstrap has run yet (%s)",
		    dir, strerror(errno));
		goto fail;
	}
	for (i = 0; i < n; i++) {
		if (vm != NULL && strcmp(insts[i].in_name, vm) != 0)
			continue;
		best[0] = '\0';
		if (bslog_latest(d, insts[i].in_name, best,
		    sizeof(best)) == -1)
			continue;
		shown++;
		if (bslog_show(dfd, dir, best, insts[i].in_name, fn,
		    arg) == -1)
			break;
	}
	if (shown == 0) {
		castra_seterr(ce, 66, "no bootstrap run log for %s in %s",
		    vm != NULL ? vm : "any VM", dir);
		goto fail;
	}
	closedir(d);
	close(dfd);
	free(insts);
	return (0);
 fail:
	if (d != NULL)
		closedir(d);
	if (dfd != -1)
		close(dfd);
	free(insts);
	return (-1);
}
