/*
 * Bus frames: a 4-byte big-endian length, 1 to FRAME_MAX, then that
 * many bytes of one JSON object with a "type".  Like handshake.c this
 * file does no I/O and keeps no state, so that it can be fuzzed alone.
 *
 *	{"type":"publish","topic":"broadcast","payload":<any JSON>}
 *	{"type":"subscribe","topic":"vm:devbox"}
 *	{"type":"heartbeat"}
 */

#include <sys/types.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"

#define TOPIC_DEFAULT	"broadcast"

/* The length of the frame that hdr starts, or -1 when it may not be. */
int
frame_length(const unsigned char *hdr, uint32_t *len)
{
	*len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | hdr[3];
	if (*len == 0 || *len > FRAME_MAX)
		return (-1);
	return (0);
}

/*
 * Topics are what the log and delivery match on: 1 to TOPIC_MAX bytes
 * of [A-Za-z0-9_.:-], and "vm:" must be followed by a VM name.
 */
int
frame_topic_valid(const char *topic)
{
	const char	*p;
	size_t		 len = strlen(topic);

	if (len == 0 || len > TOPIC_MAX)
		return (0);
	for (p = topic; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' &&
		    *p != '.' && *p != ':')
			return (0);
	if (strncmp(topic, "vm:", 3) == 0) {
		p = topic + 3;
		if (!isalnum((unsigned char)*p) || strchr(p, ':') != NULL ||
		    strlen(p) >= VM_NAME_MAX)
			return (0);
	}
	return (1);
}

static int
frame_topic(json_t *root, struct frame *fr, int required,
    const char **errstr)
{
	json_t	*t;

	t = json_object_get(root, "topic");
	if (t == NULL || json_is_null(t)) {
		if (required) {
			*errstr = "missing topic";
			return (-1);
		}
		strlcpy(fr->fr_topic, TOPIC_DEFAULT, sizeof(fr->fr_topic));
		return (0);
	}
	if (!json_is_string(t) || !frame_topic_valid(json_string_value(t))) {
		*errstr = "bad topic";
		return (-1);
	}
	strlcpy(fr->fr_topic, json_string_value(t), sizeof(fr->fr_topic));
	return (0);
}

/*
 * Decode one frame's body.  Returns 0 and fills fr (free it with
 * frame_clear), or -1 with *errstr for the error ack and the record.
 */
int
frame_decode(const void *buf, size_t len, struct frame *fr,
    const char **errstr)
{
	json_error_t	 jerr;
	json_t		*root, *type;
	const char	*name;

	memset(fr, 0, sizeof(*fr));
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		*errstr = "bad JSON";
		return (-1);
	}
	fr->fr_root = root;
	if (!json_is_object(root) ||
	    !json_is_string(type = json_object_get(root, "type"))) {
		*errstr = "no type";
		goto fail;
	}
	name = json_string_value(type);
	if (strcmp(name, "publish") == 0) {
		fr->fr_type = FRAME_PUBLISH;
		if (frame_topic(root, fr, 0, errstr) == -1)
			goto fail;
		fr->fr_payload = json_object_get(root, "payload");
		if (fr->fr_payload == NULL)
			fr->fr_payload = json_null();
	} else if (strcmp(name, "subscribe") == 0) {
		fr->fr_type = FRAME_SUBSCRIBE;
		if (frame_topic(root, fr, 1, errstr) == -1)
			goto fail;
	} else if (strcmp(name, "heartbeat") == 0)
		fr->fr_type = FRAME_HEARTBEAT;
	else {
		*errstr = "unknown type";
		goto fail;
	}
	return (0);

 fail:
	frame_clear(fr);
	return (-1);
}

void
frame_clear(struct frame *fr)
{
	json_decref(fr->fr_root);
	fr->fr_root = NULL;
	fr->fr_payload = NULL;
}

/*
 * An acknowledgement in compact JSON with sorted keys.  ack, reason and
 * topic may be NULL and delivered -1 to leave them out.
 */
char *
frame_ack(const char *ack, const char *status, const char *reason,
    const char *topic, json_int_t delivered)
{
	json_t	*o;
	char	*s;

	if ((o = json_object()) == NULL)
		return (NULL);
	json_object_set_new(o, "type", json_string("ack"));
	json_object_set_new(o, "status", json_string(status));
	if (ack != NULL)
		json_object_set_new(o, "ack", json_string(ack));
	if (reason != NULL)
		json_object_set_new(o, "reason", json_string(reason));
	if (topic != NULL)
		json_object_set_new(o, "topic", json_string(topic));
	if (delivered >= 0)
		json_object_set_new(o, "delivered", json_integer(delivered));
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return (s);
}
