/*
 * Fuzz castra-agent's parsers (guest/agentproto.c) with what a guest
 * may be handed: a kernel command line, the broker's handshake lines,
 * and a stream of bus frames whose JSON the agent picks fields from.
 * Whatever they accept must be what the agent may use.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../guest/agent.h"
#include "fuzz.h"

static void
fuzz_cmdline(const uint8_t *data, size_t size)
{
	struct agent_config	 ac;

	memset(&ac, 0, sizeof(ac));
	agent_cmdline((const char *)data, size, &ac);
	if ((ac.ac_name[0] != '\0' && !agent_valid_name(ac.ac_name)) ||
	    (ac.ac_token[0] != '\0' && !agent_valid_token(ac.ac_token)))
		abort();
}

static void
fuzz_lines(const uint8_t *data, size_t size)
{
	char	 line[AGENT_LINE_MAX + 1], word[AGENT_SESSION_MAX + 1];
	size_t	 n;

	if (agent_line((const char *)data, size, &n) != 1)
		return;
	if (n > AGENT_LINE_MAX || data[n] != '\n')
		abort();
	memcpy(line, data, n);
	line[n] = '\0';
	agent_greeting(line);
	if (agent_reply(line, word, sizeof(word)) != AGENT_REPLY_BAD &&
	    (word[0] == '\0' || strlen(word) > AGENT_SESSION_MAX ||
	    strchr(word, ' ') != NULL))
		abort();
}

static void
fuzz_frames(const uint8_t *data, size_t size)
{
	static const char	*keys[] = { "type", "ack", "status", "topic" };
	const unsigned char	*p;
	char			 out[64];
	size_t			 plen, i;
	ssize_t			 n;

	while ((n = frame_decode(data, size, &p, &plen)) > 0) {
		if (plen == 0 || plen > AGENT_FRAME_MAX ||
		    (size_t)n != plen + 4 || p != data + 4)
			abort();
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			if (json_string((const char *)p, plen, keys[i], out,
			    sizeof(out)) == 0 && strlen(out) >= sizeof(out))
				abort();
		}
		data += n;
		size -= (size_t)n;
	}
	/* The bytes as one JSON document, too. */
	json_string((const char *)data, size, "type", out, sizeof(out));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_cmdline(data, size);
	fuzz_lines(data, size);
	fuzz_frames(data, size);
	return (0);
}
