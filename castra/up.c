/*
 * castra up: start the project's VMs, each on a fresh overlay, and the
 * broker that hears their hellos.
 */

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "castra.h"

int
cmd_up(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "broker-only", no_argument,	    NULL, 'b' },
		{ "force",	no_argument,	    NULL, 'f' },
		{ "image",	required_argument,  NULL, 'i' },
		{ "wait",	no_argument,	    NULL, 'w' },
		{ NULL,		0,		    NULL, 0 }
	};
	struct castra_up_options	 uo;
	struct castra_error		 ce;
	struct castra			*c;
	int				 ch;

	memset(&uo, 0, sizeof(uo));
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			uo.uo_broker_only = 1;
			break;
		case 'f':
			uo.uo_force = 1;
			break;
		case 'i':
			uo.uo_image = optarg;
			break;
		case 'w':
			uo.uo_wait = 1;
			break;
		default:
			cli_usage("up");
		}
	}
	if (optind != argc)
		cli_usage("up");

	c = cli_open();
	if (castra_up(c, &uo, cli_event, NULL, &ce) == -1)
		cli_fail(&ce);
	if (uo.uo_broker_only)
		printf("the broker of %s is listening\n",
		    castra_project_name(c));
	else
		printf("%s is up; see `castra status`\n",
		    castra_project_name(c));
	castra_close(c);
	return (0);
}
