/*
 * What a guest says during a bootstrap, made safe to keep and show:
 * the output of run.sh and verify (over ssh) and the step results the
 * agent publishes (over the bus).  Both come from the guest, which may
 * be hostile or broken, so nothing here trusts their size or content.
 */

#include <sys/types.h>

#include <jansson.h>
#include <string.h>

#include "bootstrap.h"

#define BOOTSTRAP_NOOP		"Castra:noop"

void
bootstrap_out_reset(struct bootstrap_out *bo)
{
	memset(bo, 0, sizeof(*bo));
}

/* Is the line just ended "Castra:noop", give or take \r and blanks? */
static void
out_endline(struct bootstrap_out *bo)
{
	size_t	 len = bo->bo_linelen;

	while (len > 0 && (bo->bo_line[len - 1] == '\r' ||
	    bo->bo_line[len - 1] == ' ' || bo->bo_line[len - 1] == '\t'))
		len--;
	if (!bo->bo_linelong && len == strlen(BOOTSTRAP_NOOP) &&
	    memcmp(bo->bo_line, BOOTSTRAP_NOOP, len) == 0)
		bo->bo_noop = 1;
	bo->bo_linelen = 0;
	bo->bo_linelong = 0;
}

/* Keep the last bytes of the output, and notice a Castra:noop line. */
void
bootstrap_out_feed(struct bootstrap_out *bo, const char *buf, size_t len)
{
	size_t	 i, keep;

	for (i = 0; i < len; i++) {
		if (buf[i] == '\n')
			out_endline(bo);
		else if (bo->bo_linelen < sizeof(bo->bo_line))
			bo->bo_line[bo->bo_linelen++] = buf[i];
		else
			bo->bo_linelong = 1;
	}
	if (len >= sizeof(bo->bo_tail)) {
		memcpy(bo->bo_tail, buf + len - sizeof(bo->bo_tail),
		    sizeof(bo->bo_tail));
		bo->bo_taillen = sizeof(bo->bo_tail);
		return;
	}
	if (bo->bo_taillen + len > sizeof(bo->bo_tail)) {
		keep = sizeof(bo->bo_tail) - len;
		memmove(bo->bo_tail, bo->bo_tail + bo->bo_taillen - keep,
		    keep);
		bo->bo_taillen = keep;
	}
	memcpy(bo->bo_tail + bo->bo_taillen, buf, len);
	bo->bo_taillen += len;
}

/*
 * The last lines of the output as a C string, made safe for a
 * terminal: an escape sequence from the guest must not reach the
 * user's screen, so every control byte but \n and \t becomes '?'.
 */
void
bootstrap_out_tail(const struct bootstrap_out *bo, char *out, size_t outlen)
{
	const char	*tail = bo->bo_tail;
	size_t		 len = bo->bo_taillen, start, i, o = 0;
	int		 lines = 0;

	if (outlen == 0)
		return;
	while (len > 0 && (tail[len - 1] == '\n' || tail[len - 1] == '\r'))
		len--;
	for (start = len; start > 0; start--)
		if (tail[start - 1] == '\n' &&
		    ++lines == BOOTSTRAP_TAIL_LINES)
			break;
	/* What does not fit goes from the front: the end matters most. */
	if (len - start > outlen - 1)
		start = len - (outlen - 1);
	for (i = start; i < len; i++) {
		unsigned char	 ch = tail[i];

		out[o++] = ch == '\n' || ch == '\t' ||
		    (ch >= 0x20 && ch < 0x7f) || ch >= 0x80 ? ch : '?';
	}
	out[o] = '\0';
}

/*
 * A bus message that may be the agent's result for a step: the frame
 * {"type":"message","topic":..,"vm":<sender>,"payload":{"step",
 * "status","duration_ms","output_tail","detail"}}.  Returns 0 and
 * fills br when it comes from vm and is about step, -1 to ignore it.
 */
int
bootstrap_reply_parse(const char *json, size_t len, const char *vm,
    const char *step, struct bootstrap_reply *br)
{
	json_t		*o, *p;
	const char	*from, *s, *status, *tail, *detail;
	int		 rv = -1;

	memset(br, 0, sizeof(*br));
	if ((o = json_loadb(json, len, 0, NULL)) == NULL)
		return (-1);
	p = json_object_get(o, "payload");
	from = json_string_value(json_object_get(o, "vm"));
	s = json_string_value(json_object_get(p, "step"));
	status = json_string_value(json_object_get(p, "status"));
	tail = json_string_value(json_object_get(p, "output_tail"));
	detail = json_string_value(json_object_get(p, "detail"));
	/* Only this VM may answer: the reply topic is no secret. */
	if (from == NULL || strcmp(from, vm) != 0 || s == NULL ||
	    status == NULL || strcmp(s, step) != 0)
		goto done;
	if (strcmp(status, "success") == 0)
		br->br_status = CASTRA_STEP_SUCCESS;
	else if (strcmp(status, "skipped") == 0)
		br->br_status = CASTRA_STEP_SKIPPED;
	else if (strcmp(status, "failed") == 0)
		br->br_status = CASTRA_STEP_FAILED;
	else
		goto done;
	if (tail != NULL)
		bootstrap_out_feed(&br->br_out, tail, strlen(tail));
	if (detail != NULL) {
		/* The detail is shown on a line of its own: one line. */
		bootstrap_out_feed(&br->br_detail, detail, strlen(detail));
		bootstrap_out_feed(&br->br_detail, "\n", 1);
	}
	rv = 0;
 done:
	json_decref(o);
	return (rv);
}
