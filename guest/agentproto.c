/*
 * The agent's parsers: everything here reads bytes that came from
 * outside the agent (the kernel command line, fw_cfg, the broker) and
 * must hold up to any of them.  No I/O, no allocation.
 */

#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

static const char	*json_ws(const char *, const char *);
static const char	*json_skipstr(const char *, const char *);
static const char	*json_skipval(const char *, const char *);
static int		 json_unescape(const char *, const char *, char *,
			    size_t);

/* VM names as castra.conf(5) allows them; they end up in file names. */
int
agent_valid_name(const char *s)
{
	size_t	 i, len;

	len = strlen(s);
	if (len == 0 || len > AGENT_NAME_MAX)
		return (0);
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_' && s[i] != '.')
			return (0);
	}
	return (1);
}

int
agent_valid_token(const char *s)
{
	size_t	 i, len;

	len = strlen(s);
	if (len == 0 || len > AGENT_TOKEN_MAX)
		return (0);
	for (i = 0; i < len; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return (0);
	}
	return (1);
}

int
agent_parse_port(const char *s, uint16_t *port)
{
	unsigned long	 v;
	char		*ep;

	if (!isdigit((unsigned char)s[0]))
		return (-1);
	errno = 0;
	v = strtoul(s, &ep, 10);
	if (errno != 0 || *ep != '\0' || v == 0 || v > 65535)
		return (-1);
	*port = (uint16_t)v;
	return (0);
}

/* fw_cfg strings and files often end in a newline. */
void
agent_trim(char *s)
{
	size_t	 len;

	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
}

/*
 * Pick castra.name=, castra.port= and castra.token= out of a kernel
 * command line.  Bad values are skipped, so that one typo does not
 * hide a good value given by fw_cfg; the return value says whether
 * anything was skipped.
 */
int
agent_cmdline(const char *buf, size_t len, struct agent_config *ac)
{
	char		 word[256], *v;
	size_t		 i, n;
	uint16_t	 port;
	int		 bad = 0;

	for (i = 0; i < len;) {
		while (i < len && isspace((unsigned char)buf[i]))
			i++;
		for (n = 0; i < len && buf[i] != '\0' &&
		    !isspace((unsigned char)buf[i]); i++) {
			if (n < sizeof(word) - 1)
				word[n++] = buf[i];
		}
		if (i < len && buf[i] == '\0')
			i++;
		word[n] = '\0';
		if (strncmp(word, "castra.", 7) != 0 ||
		    (v = strchr(word, '=')) == NULL)
			continue;
		*v++ = '\0';
		if (strcmp(word, "castra.name") == 0 && agent_valid_name(v))
			snprintf(ac->ac_name, sizeof(ac->ac_name), "%s", v);
		else if (strcmp(word, "castra.token") == 0 &&
		    agent_valid_token(v))
			snprintf(ac->ac_token, sizeof(ac->ac_token), "%s",
			    v);
		else if (strcmp(word, "castra.port") == 0 &&
		    agent_parse_port(v, &port) == 0)
			ac->ac_port = port;
		else
			bad = 1;
	}
	return (bad ? -1 : 0);
}

int
agent_hello(char *buf, size_t len, const struct agent_config *ac)
{
	int	 n;

	if (!agent_valid_name(ac->ac_name))
		return (-1);
	if (ac->ac_token[0] != '\0' && !agent_valid_token(ac->ac_token))
		return (-1);
	n = snprintf(buf, len, "hello vm:%s capabilities=bus-v1%s%s\n",
	    ac->ac_name, ac->ac_token[0] != '\0' ? " token=" : "",
	    ac->ac_token);
	if (n < 0 || (size_t)n >= len || n > AGENT_LINE_MAX + 1)
		return (-1);
	return (n);
}

/*
 * Find the end of the first line in buf: 1 and its length (without the
 * newline) when complete, 0 when more bytes may finish it, -1 when it
 * is too long or holds a NUL.
 */
int
agent_line(const char *buf, size_t len, size_t *linelen)
{
	size_t	 i;

	for (i = 0; i < len && i <= AGENT_LINE_MAX; i++) {
		if (buf[i] == '\0')
			return (-1);
		if (buf[i] == '\n') {
			*linelen = i;
			return (1);
		}
	}
	return (i > AGENT_LINE_MAX ? -1 : 0);
}

/* "castra-broker <version> ready": later versions still greet alike. */
int
agent_greeting(const char *line)
{
	const char	*p;
	size_t		 len;

	if (strncmp(line, "castra-broker ", 14) != 0)
		return (-1);
	p = line + 14;
	len = strlen(p);
	if (len < 7 || strcmp(p + len - 6, " ready") != 0)
		return (-1);
	for (; *p != ' '; p++) {
		if (!isgraph((unsigned char)*p))
			return (-1);
	}
	return (0);
}

/*
 * "ok session=<id>" grants, "denied reason=<reason>" refuses; either
 * word goes to buf.  Anything else is a broker we do not understand.
 */
enum agent_reply
agent_reply(const char *line, char *buf, size_t len)
{
	const char		*p;
	enum agent_reply	 r;
	size_t			 n;

	if (strncmp(line, "ok session=", 11) == 0) {
		p = line + 11;
		r = AGENT_REPLY_OK;
	} else if (strncmp(line, "denied reason=", 14) == 0) {
		p = line + 14;
		r = AGENT_REPLY_DENIED;
	} else
		return (AGENT_REPLY_BAD);

	if (p[0] == '\r')
		return (AGENT_REPLY_BAD);
	for (n = 0; p[n] != '\0' && p[n] != '\r'; n++) {
		if (!isgraph((unsigned char)p[n]) || n > AGENT_SESSION_MAX)
			return (AGENT_REPLY_BAD);
	}
	if (n == 0 || n >= len || (p[n] == '\r' && p[n + 1] != '\0'))
		return (AGENT_REPLY_BAD);
	memcpy(buf, p, n);
	buf[n] = '\0';
	return (r);
}

/* A bus frame: 4-byte big-endian length, then that much JSON. */
int
frame_encode(char *buf, size_t len, const char *json)
{
	size_t	 n;

	n = strlen(json);
	if (n == 0 || n > AGENT_FRAME_MAX || len < n + 4)
		return (-1);
	buf[0] = (char)((n >> 24) & 0xff);
	buf[1] = (char)((n >> 16) & 0xff);
	buf[2] = (char)((n >> 8) & 0xff);
	buf[3] = (char)(n & 0xff);
	memcpy(buf + 4, json, n);
	return ((int)(n + 4));
}

/*
 * The first frame in buf: its size with the header when complete (the
 * payload in *p, *plen), 0 while incomplete, -1 for a length the
 * protocol does not allow, after which the stream cannot be trusted.
 */
ssize_t
frame_decode(const unsigned char *buf, size_t len, const unsigned char **p,
    size_t *plen)
{
	size_t	 n;

	if (len < 4)
		return (0);
	n = ((size_t)buf[0] << 24) | ((size_t)buf[1] << 16) |
	    ((size_t)buf[2] << 8) | (size_t)buf[3];
	if (n == 0 || n > AGENT_FRAME_MAX)
		return (-1);
	if (len - 4 < n)
		return (0);
	*p = buf + 4;
	*plen = n;
	return ((ssize_t)(n + 4));
}

static const char *
json_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' ||
	    *p == '\r'))
		p++;
	return (p);
}

/* p is at an opening quote; return what follows the closing one. */
static const char *
json_skipstr(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\') {
			if (++p == end)
				return (NULL);
		} else if (*p == '"')
			return (p + 1);
		else if ((unsigned char)*p < 0x20)
			return (NULL);
	}
	return (NULL);
}

/*
 * Skip one value without recursion: nesting is only counted, so a
 * hostile depth costs nothing.  Scalars are taken on trust up to the
 * next delimiter; the agent never reads them.
 */
static const char *
json_skipval(const char *p, const char *end)
{
	size_t	 depth = 0;

	if (p < end && *p == '"')
		return (json_skipstr(p, end));
	if (p < end && *p != '{' && *p != '[') {
		const char *q = p;

		while (q < end && strchr(",}] \t\r\n", *q) == NULL)
			q++;
		return (q == p ? NULL : q);
	}
	while (p < end) {
		if (*p == '"') {
			if ((p = json_skipstr(p, end)) == NULL)
				return (NULL);
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']') {
			if (--depth == 0)
				return (p + 1);
		}
		p++;
	}
	return (NULL);
}

/* Unescape the string whose body is [p, end) into out. */
static int
json_unescape(const char *p, const char *end, char *out, size_t outlen)
{
	size_t		 n = 0;
	unsigned int	 u;
	char		 c, hex[5];

	while (p < end) {
		c = *p++;
		if (c == '\\') {
			if (p == end)
				return (-1);
			switch ((c = *p++)) {
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case '"': case '\\': case '/': break;
			case 'u':
				if (end - p < 4)
					return (-1);
				memcpy(hex, p, 4);
				hex[4] = '\0';
				if (strspn(hex, "0123456789abcdefABCDEF") != 4)
					return (-1);
				u = (unsigned int)strtoul(hex, NULL, 16);
				p += 4;
				/* What the agent reads is ASCII. */
				if (u == 0)
					return (-1);
				c = u < 0x80 ? (char)u : '?';
				break;
			default:
				return (-1);
			}
		}
		if (n + 1 >= outlen)
			return (-1);
		out[n++] = c;
	}
	out[n] = '\0';
	return (0);
}

/*
 * Copy the string value of key in the top-level JSON object into out.
 * 0 when found, -1 when absent, not a string, too long or malformed.
 */
int
json_string(const char *json, size_t len, const char *key, char *out,
    size_t outlen)
{
	const char	*p, *end = json + len, *k, *q;
	size_t		 klen = strlen(key);

	p = json_ws(json, end);
	if (p == end || *p++ != '{')
		return (-1);
	for (;;) {
		p = json_ws(p, end);
		if (p == end || *p != '"')
			return (-1);
		k = p + 1;
		if ((p = json_skipstr(p, end)) == NULL)
			return (-1);
		q = p - 1;		/* the key's closing quote */
		p = json_ws(p, end);
		if (p == end || *p++ != ':')
			return (-1);
		p = json_ws(p, end);
		if ((size_t)(q - k) == klen && memcmp(k, key, klen) == 0) {
			if (p == end || *p != '"' ||
			    (q = json_skipstr(p, end)) == NULL)
				return (-1);
			return (json_unescape(p + 1, q - 1, out, outlen));
		}
		if ((p = json_skipval(p, end)) == NULL)
			return (-1);
		p = json_ws(p, end);
		if (p == end || *p != ',')
			return (-1);
		p++;
	}
}
