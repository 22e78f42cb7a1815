/*
 * castra up: start the project's VMs, each on a fresh overlay, and the
 * broker that hears their hellos; then run the bootstrap of the VMs
 * that have one.  With --plan, only say what the bootstrap would do.
 */

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "castra.h"

#define UP_OVERRIDES_MAX	64

/* One planned VM: its verdict, then its plan lines indented. */
static void
up_plan_event(const struct castra_event *ev, void *arg)
{
	FILE		*fp;
	const char	*p, *nl;

	(void)arg;
	if (ev->ev_type != CASTRA_EV_BOOTSTRAP_PLANNED) {
		cli_event(ev, NULL);
		return;
	}
	fp = ev->ev_num ? stderr : stdout;
	fprintf(fp, "%s: %s\n", ev->ev_vm, ev->ev_text);
	for (p = ev->ev_detail; p != NULL && *p != '\0'; p = nl) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		fprintf(fp, "    %.*s\n", (int)(nl - p), p);
		if (*nl == '\n')
			nl++;
	}
	fflush(fp);
}

int
cmd_up(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bootstrap",	required_argument,  NULL, 'B' },
		{ "broker-only", no_argument,	    NULL, 'b' },
		{ "force",	no_argument,	    NULL, 'f' },
		{ "image",	required_argument,  NULL, 'i' },
		{ "plan",	no_argument,	    NULL, 'p' },
		{ "wait",	no_argument,	    NULL, 'w' },
		{ NULL,		0,		    NULL, 0 }
	};
	struct castra_up_options	 uo;
	struct castra_error		 ce;
	struct castra			*c;
	char				*vms[UP_OVERRIDES_MAX + 1];
	int				 ch, nvms = 0;

	memset(&uo, 0, sizeof(uo));
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'B':
			/* vm=mode names VMs; a bare mode is for all. */
			if (strchr(optarg, '=') == NULL)
				uo.uo_bootstrap = optarg;
			else if (nvms == UP_OVERRIDES_MAX)
				errx(64, "too many --bootstrap options");
			else
				vms[nvms++] = optarg;
			break;
		case 'b':
			uo.uo_broker_only = 1;
			break;
		case 'f':
			uo.uo_force = 1;
			break;
		case 'i':
			uo.uo_image = optarg;
			break;
		case 'p':
			uo.uo_plan = 1;
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
	vms[nvms] = NULL;
	uo.uo_bootstrap_vms = vms;

	c = cli_open();
	if (uo.uo_plan) {
		if (castra_up(c, &uo, up_plan_event, NULL, &ce) == -1)
			cli_fail(&ce);
		printf("plan only: nothing was started or written\n");
		castra_close(c);
		return (0);
	}
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
