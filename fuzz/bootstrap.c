/*
 * Fuzz what castra up keeps of a guest's bootstrap (lib/bootstrap_out.c):
 * the output of run.sh fed in chunks of any size, and the step results
 * an agent publishes.  What may reach a terminal must hold no control
 * byte but newline and tab, and no more than the last lines; a noop is
 * seen exactly when a whole line reads Castra:noop.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/bootstrap.h"
#include "fuzz.h"

static void
fuzz_check_tail(const struct bootstrap_out *bo)
{
	char	 tail[BOOTSTRAP_TAIL_MAX + 1];
	size_t	 i, lines = 0;

	bootstrap_out_tail(bo, tail, sizeof(tail));
	for (i = 0; tail[i] != '\0'; i++) {
		unsigned char	 ch = tail[i];

		if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f)
			abort();
		if (ch == '\n')
			lines++;
	}
	if (lines >= BOOTSTRAP_TAIL_LINES)
		abort();
}

/* The same bytes at once: is a line "Castra:noop" (trailing blanks)? */
static int
fuzz_noop(const uint8_t *data, size_t size)
{
	size_t	 start = 0, i, len;

	for (i = 0; i < size; i++) {
		if (data[i] != '\n')
			continue;
		len = i - start;
		/* Longer lines are kept in part only, and never a noop. */
		if (len > BOOTSTRAP_LINE_MAX) {
			start = i + 1;
			continue;
		}
		while (len > 0 && (data[start + len - 1] == '\r' ||
		    data[start + len - 1] == ' ' ||
		    data[start + len - 1] == '\t'))
			len--;
		if (len == 11 && memcmp(data + start, "Castra:noop", 11) == 0)
			return (1);
		start = i + 1;
	}
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bootstrap_out	 bo;
	struct bootstrap_reply	 br;
	size_t			 off, n;

	if (size == 0)
		return (0);
	/* The first byte sets the chunk size, as reads would cut it. */
	bootstrap_out_reset(&bo);
	n = data[0] % 64 + 1;
	for (off = 1; off < size; off += n)
		bootstrap_out_feed(&bo, (const char *)data + off,
		    size - off < n ? size - off : n);
	fuzz_check_tail(&bo);
	if (bo.bo_noop != fuzz_noop(data + 1, size - 1))
		abort();

	if (bootstrap_reply_parse((const char *)data, size, "web", "apply",
	    &br) == 0) {
		if (br.br_status != CASTRA_STEP_SUCCESS &&
		    br.br_status != CASTRA_STEP_SKIPPED &&
		    br.br_status != CASTRA_STEP_FAILED)
			abort();
		fuzz_check_tail(&br.br_out);
		fuzz_check_tail(&br.br_detail);
	}
	return (0);
}
