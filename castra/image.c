/*
 * castra image: list, fetch, import and remove the images of the cache
 * that every project of a castrad shares.
 */

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "castra.h"

static struct castra_progress	*image_progress;

static void
image_event(const struct castra_event *ev, void *arg)
{
	if (ev->ev_type == CASTRA_EV_IMAGE_PROGRESS) {
		castra_progress_event(image_progress, ev);
		return;
	}
	castra_progress_end(image_progress);
	cli_event(ev, arg);
}

static int
image_list(int argc, char **argv)
{
	struct castra_image	*list;
	struct castra_error	 ce;
	struct tm		*tm;
	time_t			 t;
	size_t			 i, n;
	char			 size[16], used[20];

	if (argc != 1)
		cli_usage("image");
	if (castra_image_list(&list, &n, &ce) == -1)
		cli_fail(&ce);
	if (n > 0)
		printf("%-12s  %-10s  %-6s  %-16s  %s\n", "SHA256", "SIZE",
		    "FORMAT", "LAST USED", "SOURCE");
	for (i = 0; i < n; i++) {
		cli_bytes(list[i].cim_size, size, sizeof(size));
		strlcpy(used, "-", sizeof(used));
		t = list[i].cim_last_used_at;
		if (t > 0 && (tm = localtime(&t)) != NULL)
			strftime(used, sizeof(used), "%Y-%m-%d %H:%M", tm);
		printf("%.12s  %-10s  %-6s  %-16s  %s\n", list[i].cim_sha256,
		    size, list[i].cim_format[0] != '\0' ?
		    list[i].cim_format : "?", used,
		    list[i].cim_url[0] != '\0' ? list[i].cim_url : "local");
	}
	free(list);
	return (0);
}

static int
image_pull(int argc, char **argv)
{
	struct castra_error	 ce;
	struct castra		*c;

	if (argc > 2)
		cli_usage("image");
	c = cli_open();
	if (castra_image_pull(c, argc == 2 ? argv[1] : NULL, image_event,
	    NULL, &ce) == -1) {
		castra_progress_end(image_progress);
		cli_fail(&ce);
	}
	castra_close(c);
	return (0);
}

static int
image_import(int argc, char **argv)
{
	struct castra_error	 ce;
	char			 sha256[65];

	if (argc != 2)
		cli_usage("image");
	if (castra_image_import(argv[1], sha256, image_event, NULL,
	    &ce) == -1) {
		castra_progress_end(image_progress);
		cli_fail(&ce);
	}
	printf("%s\n", sha256);
	return (0);
}

static int
image_rm(int argc, char **argv)
{
	struct castra_error	 ce;

	if (argc != 2)
		cli_usage("image");
	if (castra_image_remove(argv[1], image_event, NULL, &ce) == -1)
		cli_fail(&ce);
	return (0);
}

/* A number of bytes, with K, M, G or T (powers of 1024) after it. */
static uint64_t
image_bytes_arg(const char *s)
{
	unsigned long long	 n;
	char			*end;
	const char		*units = "KMGT", *u;

	n = strtoull(s, &end, 10);
	if (end == s || *s == '-')
		errx(EXIT_USAGE, "--size %s: use a number of bytes", s);
	if (*end != '\0') {
		if ((u = strchr(units, *end)) == NULL || end[1] != '\0')
			errx(EXIT_USAGE, "--size %s: use K, M, G or T after "
			    "the number", s);
		for (; u >= units; u--) {
			if (n > UINT64_MAX / 1024)
				errx(EXIT_USAGE, "--size %s: too large", s);
			n *= 1024;
		}
	}
	return (n);
}

static int
image_prune(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "age",	required_argument,	NULL,	'a' },
		{ "size",	required_argument,	NULL,	's' },
		{ NULL,		0,			NULL,	0 }
	};
	struct castra_error	 ce;
	const char		*errstr;
	uint64_t		 age = 0, size = 0;
	int			 ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			age = strtonum(optarg, 1, 36500, &errstr);
			if (errstr != NULL)
				errx(EXIT_USAGE, "--age %s: %s days", optarg,
				    errstr);
			age *= 86400;
			break;
		case 's':
			size = image_bytes_arg(optarg);
			break;
		default:
			cli_usage("image");
		}
	}
	if (optind != argc)
		cli_usage("image");
	if (castra_image_prune(age, size, image_event, NULL, &ce) == -1)
		cli_fail(&ce);
	return (0);
}

int
cmd_image(int argc, char **argv)
{
	static const struct command subs[] = {
		{ "list",	image_list,	NULL },
		{ "pull",	image_pull,	NULL },
		{ "import",	image_import,	NULL },
		{ "rm",		image_rm,	NULL },
		{ "prune",	image_prune,	NULL },
	};
	size_t	 i;
	int	 rv;

	if (argc < 2)
		cli_usage("image");
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (strcmp(subs[i].cmd_name, argv[1]) != 0)
			continue;
		image_progress = castra_progress_new(STDERR_FILENO);
		rv = subs[i].cmd_main(argc - 1, argv + 1);
		castra_progress_free(image_progress);
		return (rv);
	}
	warnx("image: unknown command %s", argv[1]);
	cli_usage("image");
}
