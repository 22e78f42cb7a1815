/* castra init: write a castra.conf(5) for one VM on the default image. */

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "castra.h"

static void
init_print(const struct castra_event *ev, void *arg)
{
	if (ev->ev_type == CASTRA_EV_WARNING)
		fprintf(stderr, "castra: warning: %s\n", ev->ev_text);
	else
		printf("%s\n", ev->ev_text);
}

int
cmd_init(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force",	no_argument,		NULL,	'f' },
		{ "name",	required_argument,	NULL,	'n' },
		{ "output",	required_argument,	NULL,	'o' },
		{ NULL,		0,			NULL,	0 }
	};
	struct castra_init_options	 io;
	struct castra_error		 ce;
	int				 ch;

	memset(&io, 0, sizeof(io));
	/* -c names the file to write when -o does not. */
	io.io_path = cli.g_config;
	while ((ch = getopt_long(argc, argv, "fn:o:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			io.io_force = 1;
			break;
		case 'n':
			io.io_name = optarg;
			break;
		case 'o':
			io.io_path = optarg;
			break;
		default:
			cli_usage("init");
		}
	}
	if (optind != argc)
		cli_usage("init");
	if (castra_init(&io, init_print, NULL, &ce) == -1)
		cli_fail(&ce);
	return (0);
}
