/*
 * How castra shows the events of up and down as they happen: one line
 * each, and a progress display for downloads (lib/image.c).
 */

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "castra.h"

/* Downloads draw a bar on a terminal, plain lines otherwise. */
static struct castra_progress	*progress;

static void
format_ms(uint64_t ms, char *buf, size_t len)
{
	if (ms < 1000)
		snprintf(buf, len, "%llums", (unsigned long long)ms);
	else
		snprintf(buf, len, "%.1fs", ms / 1000.0);
}

void
cli_bytes(uint64_t n, char *buf, size_t len)
{
	const char	*units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double		 v = n;
	int		 u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
}

void
cli_event(const struct castra_event *ev, void *arg)
{
	char	 ms[32], bytes[32];

	if (ev->ev_type == CASTRA_EV_IMAGE_PROGRESS) {
		if (progress == NULL)
			progress = castra_progress_new(STDOUT_FILENO);
		castra_progress_event(progress, ev);
		return;
	}
	castra_progress_end(progress);
	format_ms(ev->ev_ms, ms, sizeof(ms));
	switch (ev->ev_type) {
	case CASTRA_EV_WARNING:
		fprintf(stderr, "castra: warning: %s\n", ev->ev_text);
		break;
	case CASTRA_EV_IMAGE_READY:
		printf("image %.12s ready\n", ev->ev_text);
		break;
	case CASTRA_EV_VM_LAUNCHED:
		printf("%s: launched, pid %llu, %s\n", ev->ev_vm,
		    (unsigned long long)ev->ev_num, ev->ev_text);
		break;
	case CASTRA_EV_VM_REACHABLE:
		printf("%s: reachable, %s after up began\n", ev->ev_vm, ms);
		break;
	case CASTRA_EV_COOPERATIVE_ATTEMPTED:
		printf("%s: ACPI power button pressed, waiting up to %s\n",
		    ev->ev_vm, ms);
		break;
	case CASTRA_EV_COOPERATIVE_SUCCEEDED:
		printf("%s: powered off after %s\n", ev->ev_vm, ms);
		break;
	case CASTRA_EV_COOPERATIVE_TIMED_OUT:
		printf("%s: no power-off after %s\n", ev->ev_vm, ms);
		break;
	case CASTRA_EV_SHUTDOWN_ESCALATED:
		printf("%s: sent %s\n", ev->ev_vm, ev->ev_text);
		break;
	case CASTRA_EV_OVERLAY_DISCARDED:
		cli_bytes(ev->ev_num, bytes, sizeof(bytes));
		printf("%s: discarded %s of guest changes\n", ev->ev_vm,
		    bytes);
		break;
	case CASTRA_EV_SHUTDOWN_COMPLETE:
		printf("%s: stopped in %s\n", ev->ev_vm, ms);
		break;
	case CASTRA_EV_BOOTSTRAP_STARTED:
		printf("%s: bootstrap started (%s)\n", ev->ev_vm, ev->ev_text);
		break;
	case CASTRA_EV_BOOTSTRAP_STEP:
		printf("   - %s %s: %s in %s%s%s%s\n", ev->ev_vm, ev->ev_text,
		    ev->ev_num == CASTRA_STEP_SUCCESS ? "success" :
		    ev->ev_num == CASTRA_STEP_SKIPPED ? "skipped" : "failed",
		    ms, ev->ev_detail != NULL && ev->ev_detail[0] ? " (" : "",
		    ev->ev_detail != NULL ? ev->ev_detail : "",
		    ev->ev_detail != NULL && ev->ev_detail[0] ? ")" : "");
		break;
	case CASTRA_EV_BOOTSTRAP_COMPLETED:
		if (strcmp(ev->ev_text, "skipped") == 0)
			printf("%s: bootstrap skipped after %s\n", ev->ev_vm,
			    ms);
		else if (strcmp(ev->ev_text, "noop") == 0)
			printf("%s: bootstrap completed in %s, no changes "
			    "(Castra:noop)\n", ev->ev_vm, ms);
		else
			printf("%s: bootstrap completed in %s\n", ev->ev_vm,
			    ms);
		break;
	case CASTRA_EV_BOOTSTRAP_FAILED:
		printf("%s: bootstrap failed after %s\n", ev->ev_vm, ms);
		break;
	default:
		if (ev->ev_vm[0] != '\0')
			printf("%s: %s\n", ev->ev_vm, ev->ev_text);
		else if (ev->ev_text[0] != '\0')
			printf("%s\n", ev->ev_text);
		break;
	}
	fflush(stdout);
}
