/*
 * castra ports [--active]: the forwards each VM declares, those that
 * collide, the broker's port, and with --active whether each host port
 * is bound now.
 */

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "castra.h"

static void
ports_print(const struct castra_ports *ps, int active)
{
	const struct castra_port	*pt;
	char				 host[80];
	size_t				 i;
	int				 wvm = 2, whost = 4;

	for (i = 0; i < ps->ps_nports; i++) {
		pt = &ps->ps_ports[i];
		if ((int)strlen(pt->pt_vm) > wvm)
			wvm = strlen(pt->pt_vm);
		snprintf(host, sizeof(host), "%s:%u", pt->pt_bind,
		    pt->pt_host);
		if ((int)strlen(host) > whost)
			whost = strlen(host);
	}
	printf("%-*s  %-*s  %-5s  %-5s  %s\n", wvm, "VM", whost, "HOST",
	    "GUEST", "PROTO", "STATUS");
	for (i = 0; i < ps->ps_nports; i++) {
		pt = &ps->ps_ports[i];
		snprintf(host, sizeof(host), "%s:%u", pt->pt_bind,
		    pt->pt_host);
		printf("%-*s  %-*s  %-5u  %-5s  %s", wvm, pt->pt_vm, whost,
		    host, pt->pt_guest, pt->pt_proto, pt->pt_status);
		if (strcmp(pt->pt_status, "conflict") == 0)
			printf(" (also declared by %s)", pt->pt_detail);
		else if (active && pt->pt_detail != NULL)
			printf(" (%s)", pt->pt_detail);
		printf("\n");
	}
}

int
cmd_ports(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "active",	no_argument,	NULL,	'a' },
		{ NULL,		0,		NULL,	0 }
	};
	struct castra_ports		*ps;
	struct castra_error		 ce;
	struct castra			*c;
	const struct castra_port	*pt;
	size_t				 i;
	int				 ch, active = 0;

	while ((ch = getopt_long(argc, argv, "a", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			active = 1;
			break;
		default:
			cli_usage("ports");
		}
	}
	if (optind != argc)
		cli_usage("ports");

	c = cli_open();
	if (castra_ports(c, active, &ps, &ce) == -1)
		cli_fail(&ce);
	printf("Project: %s\n", castra_config_path(c));
	printf("Broker:  127.0.0.1:%u/tcp (%s)\n", ps->ps_broker_port,
	    ps->ps_broker_state);
	printf("\n");
	if (ps->ps_nports == 0)
		printf("No forwards are declared.\n");
	else
		ports_print(ps, active);
	if (ps->ps_unforwarded[0] != NULL) {
		printf("\nVMs without forwards:");
		for (i = 0; ps->ps_unforwarded[i] != NULL; i++)
			printf("%s %s", i > 0 ? "," : "",
			    ps->ps_unforwarded[i]);
		printf("\n");
	}
	for (i = 0; i < ps->ps_nports; i++) {
		pt = &ps->ps_ports[i];
		if (strcmp(pt->pt_status, "conflict") == 0)
			fprintf(stderr, "castra: warning: %s port %u of %s "
			    "collides with %s; change one of them in %s\n",
			    pt->pt_proto, pt->pt_host, pt->pt_vm,
			    pt->pt_detail, castra_config_path(c));
		else if (strcmp(pt->pt_status, "broker-reserved") == 0)
			fprintf(stderr, "castra: warning: port %u of %s is "
			    "the broker's; change the forward or the broker "
			    "port in %s\n", pt->pt_host, pt->pt_vm,
			    castra_config_path(c));
	}
	castra_ports_free(ps);
	castra_close(c);
	return (0);
}
