/*
 * Fuzz the broker's hello line (castra-broker/handshake.c), the first
 * bytes any guest sends.  A parsed hello must hold only what the
 * records may carry: a valid name, capabilities that are unique without
 * regard to case and sorted, and a list that fits its buffer.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../castra-broker/broker.h"
#include "fuzz.h"

static void
hello_invariants(const struct hello *h)
{
	char			 caps[HELLO_CAPS_STR];
	enum session_kind	 kind;
	size_t			 i;

	if (h->h_name[0] == '\0' || strchr(h->h_name, '/') != NULL ||
	    h->h_ncaps > HELLO_CAPS_MAX)
		abort();
	for (i = 1; i < h->h_ncaps; i++)
		if (strcasecmp(h->h_caps[i - 1], h->h_caps[i]) >= 0)
			abort();
	hello_caps_join(h, caps, sizeof(caps));
	if (strlen(caps) + 1 >= sizeof(caps))
		abort();
	hello_check(h, "", NULL, &kind);
	hello_check(h, "00ff", "abcd", &kind);
	if (kind == KIND_HOST && !hello_has_cap(h, HELLO_CAP_HOST))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hello	 h;
	const char	*errstr;
	char		*line;

	/* Exactly the bytes, not NUL-terminated, as the broker passes them. */
	if ((line = malloc(size > 0 ? size : 1)) == NULL)
		return (0);
	memcpy(line, data, size);
	if (hello_parse(line, size, &h, &errstr) == 0)
		hello_invariants(&h);
	else if (errstr == NULL)
		abort();
	free(line);
	return (0);
}
