/*
 * Fuzz castra-agent's bootstrap parsers (guest/agentproto.c): the
 * host's request as a bus frame, the ustar archive read from fw_cfg,
 * and the escaping of output sent back.  What they accept must be safe
 * to use: a run id that names no other directory, environment entries
 * with valid names, archive entries inside the buffer and below the
 * directory they are unpacked in.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../guest/agent.h"
#include "fuzz.h"

static struct agent_bsreq	 rq;

static void
fuzz_request(const uint8_t *data, size_t size)
{
	const char	*e;
	int		 i;

	if (agent_bsreq_parse((const char *)data, size, &rq) == -1)
		return;
	if (rq.br_runid[0] == '\0' ||
	    strspn(rq.br_runid, "0123456789abcdef-") != strlen(rq.br_runid) ||
	    strncmp(rq.br_reply, "bootstrap:", 10) != 0 ||
	    strcmp(rq.br_reply + 10, rq.br_runid) != 0 ||
	    strlen(rq.br_sha256) != 64 || rq.br_timeout_ms == 0 ||
	    rq.br_nenv < 0 || rq.br_nenv > AGENT_ENV_MAX)
		abort();
	for (i = 0; i < rq.br_nenv; i++) {
		e = rq.br_env[i];
		if ((e[0] < 'A' || e[0] > 'Z') && (e[0] < 'a' || e[0] > 'z') &&
		    e[0] != '_')
			abort();
		if (strchr(e, '=') == NULL ||
		    strspn(e, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789_") !=
		    (size_t)(strchr(e, '=') - e))
			abort();
	}
}

static void
fuzz_tar(const uint8_t *data, size_t size)
{
	struct agent_tarent	 te;
	size_t			 off = 0, prev;
	int			 rv;

	for (;;) {
		prev = off;
		if ((rv = agent_tar_next(data, size, &off, &te)) != 1)
			break;
		if (off <= prev || off > size ||
		    te.te_data < data || te.te_data + te.te_size > data + size)
			abort();
		if (te.te_name[0] == '\0' || te.te_name[0] == '/' ||
		    strcmp(te.te_name, "..") == 0 ||
		    strncmp(te.te_name, "../", 3) == 0 ||
		    strstr(te.te_name, "/../") != NULL ||
		    (strlen(te.te_name) >= 3 &&
		    strcmp(te.te_name + strlen(te.te_name) - 3, "/..") == 0))
			abort();
	}
}

static void
fuzz_escape(const uint8_t *data, size_t size)
{
	char	*out;
	size_t	 i, len = size * 6 + 1;

	if ((out = malloc(len)) == NULL)
		return;
	if (json_escape(out, len, (const char *)data, size) == -1)
		abort();
	for (i = 0; out[i] != '\0'; i++) {
		if ((unsigned char)out[i] < 0x20 ||
		    (unsigned char)out[i] >= 0x7f)
			abort();
		if (out[i] == '"' && (i == 0 || out[i - 1] != '\\'))
			abort();
	}
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return (0);
	switch (data[0] % 3) {
	case 0:
		fuzz_request(data + 1, size - 1);
		break;
	case 1:
		fuzz_tar(data + 1, size - 1);
		break;
	default:
		fuzz_escape(data + 1, size - 1);
		break;
	}
	return (0);
}
