/*
 * Fuzz the broker's bus frames (castra-broker/frame.c): the input is a
 * stream of length-prefixed frames, as a session reads them, decoded
 * until a length is refused.  A decoded frame must carry a valid topic
 * where it has one, and its acknowledgement must encode.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../castra-broker/broker.h"
#include "fuzz.h"

static void
frame_invariants(struct frame *fr)
{
	char	*ack;

	if (fr->fr_type != FRAME_HEARTBEAT &&
	    !frame_topic_valid(fr->fr_topic))
		abort();
	if (fr->fr_type == FRAME_PUBLISH && fr->fr_payload == NULL)
		abort();
	if ((ack = frame_ack("publish", "ok", NULL, fr->fr_topic, 1)) == NULL)
		abort();
	free(ack);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame	 fr;
	const char	*errstr;
	uint32_t	 len;
	uint8_t		*body;

	while (size >= FRAME_HDR) {
		if (frame_length(data, &len) == -1) {
			if (len != 0 && len <= FRAME_MAX)
				abort();
			break;
		}
		data += FRAME_HDR;
		size -= FRAME_HDR;
		if (len > size)
			len = size;
		/* A copy of its own size, so that ASan sees any overread. */
		if ((body = malloc(len > 0 ? len : 1)) == NULL)
			break;
		memcpy(body, data, len);
		if (frame_decode(body, len, &fr, &errstr) == 0) {
			frame_invariants(&fr);
			frame_clear(&fr);
		} else if (errstr == NULL)
			abort();
		free(body);
		data += len;
		size -= len;
	}
	return (0);
}
