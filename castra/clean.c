/*
 * castra clean [--dry-run] [--force] [--images] [--keep-handshakes]
 * [--keep-logs]: remove what a stopped project left in its state root
 * and say how much space that gave back.
 */

#include <err.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "castra.h"

struct clean_out {
	int	 co_dry_run;
};

static void
clean_bytes(char *buf, size_t len, uint64_t n)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double	 v = n / 1024.0;
	int	 u = 0;

	if (n < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", n);
		return;
	}
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, units[u]);
}

static void
clean_print(const struct castra_event *ev, void *arg)
{
	struct clean_out	*out = arg;
	char			 size[32];

	clean_bytes(size, sizeof(size), ev->ev_num);
	printf("%s %s (%s)\n", out->co_dry_run ? "would remove" : "removed",
	    ev->ev_text, size);
}

/*
 * The image cache is shared by every project: prune what no running VM
 * uses, as `castra image prune` without limits does.
 */
static int
clean_images(void)
{
	struct castra_error	 ce;

	if (castra_image_prune(0, 0, cli_event, NULL, &ce) == -1)
		cli_fail(&ce);
	return (0);
}

int
cmd_clean(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run",		no_argument,	NULL,	'n' },
		{ "force",		no_argument,	NULL,	'f' },
		{ "images",		no_argument,	NULL,	'i' },
		{ "keep-handshakes",	no_argument,	NULL,	'H' },
		{ "keep-logs",		no_argument,	NULL,	'L' },
		{ NULL,			0,		NULL,	0 }
	};
	struct castra_clean_options	 co;
	struct castra_error		 ce;
	struct clean_out		 out;
	struct castra			*c;
	uint64_t			 bytes;
	char				 size[32];
	int				 ch, images = 0;

	memset(&co, 0, sizeof(co));
	while ((ch = getopt_long(argc, argv, "fHiLn", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			co.co_force = 1;
			break;
		case 'H':
			co.co_keep_handshakes = 1;
			break;
		case 'i':
			images = 1;
			break;
		case 'L':
			co.co_keep_logs = 1;
			break;
		case 'n':
			co.co_dry_run = 1;
			break;
		default:
			cli_usage("clean");
		}
	}
	if (optind != argc)
		cli_usage("clean");

	out.co_dry_run = co.co_dry_run;
	c = cli_open();
	printf("State root: %s\n", castra_state_root(c));
	if (castra_clean(c, &co, clean_print, &out, &bytes, &ce) == -1)
		cli_fail(&ce);
	clean_bytes(size, sizeof(size), bytes);
	if (co.co_dry_run)
		printf("Would reclaim %s (%" PRIu64 " bytes); nothing was "
		    "removed.\n", size, bytes);
	else
		printf("Reclaimed %s (%" PRIu64 " bytes).\n", size, bytes);
	castra_close(c);
	if (images && !co.co_dry_run)
		return (clean_images());
	if (images)
		printf("The image cache is left as it is in a dry run.\n");
	return (0);
}
