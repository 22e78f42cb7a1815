/*
 * Fuzz what castra status reads from a state root, which others wrote
 * and which may be corrupt or hostile: the /proc stat parser, and the
 * VM, handshake and broker records through castra_status() and its
 * JSON.  The first byte picks the target; the rest is the content.
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "castra.h"
#include "config.h"
#include "state.h"
#include "fuzz.h"

static const char *const fuzz_files[] = {
	"vms/web.json", "handshakes/web.json", "broker.json"
};

static struct castra	 fuzz_project;

static int
fuzz_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return (remove(path));
}

static void
fuzz_cleanup(void)
{
	nftw(fuzz_project.c_root, fuzz_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* A project with one VM whose state root is a directory of our own. */
static void
fuzz_setup(void)
{
	char	 dir[] = "/tmp/castra-fuzz-state.XXXXXX", text[PATH_MAX + 128];
	char	*errs = NULL;

	if (mkdtemp(dir) == NULL || state_mkdirs(dir) == -1)
		abort();
	snprintf(text, sizeof(text), "project \"fuzz\"\nstate \"%s\"\n"
	    "vm \"web\" {\n\tdisk \"base.qcow2\"\n"
	    "\tforward tcp 2222 to 22\n}\n", dir);
	fuzz_project.c_cfg = config_parse_buffer("/nonexistent/castra.conf",
	    text, strlen(text), NULL, &errs);
	free(errs);
	if (fuzz_project.c_cfg == NULL)
		abort();
	strlcpy(fuzz_project.c_config, "/nonexistent/castra.conf",
	    sizeof(fuzz_project.c_config));
	strlcpy(fuzz_project.c_root, dir, sizeof(fuzz_project.c_root));
	strlcpy(fuzz_project.c_id, "fuzz", sizeof(fuzz_project.c_id));
	atexit(fuzz_cleanup);
}

static void
fuzz_record(const char *rel, const uint8_t *data, size_t size)
{
	struct castra_status	*st;
	char			 path[PATH_MAX], *json;
	int			 fd;

	snprintf(path, sizeof(path), "%s/%s", fuzz_project.c_root, rel);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	if (castra_status(&fuzz_project, &st, NULL) == -1)
		abort();
	if ((json = castra_status_json(st)) == NULL)
		abort();
	free(json);
	castra_status_free(st);
	unlink(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t	 start;
	char		 state;

	if (fuzz_project.c_cfg == NULL)
		fuzz_setup();
	if (size == 0)
		return (0);
	if (data[0] % 4 == 3)
		(void)proc_stat_parse((const char *)data + 1, size - 1, &state,
		    &start);
	else
		fuzz_record(fuzz_files[data[0] % 4], data + 1, size - 1);
	return (0);
}
