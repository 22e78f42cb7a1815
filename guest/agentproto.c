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
	n = snprintf(buf, len, "hello vm:%s capabilities=bus-v1,bootstrap-v1"
	    "%s%s\n",
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
 * Find the value of key in the top-level JSON object [json, json+len):
 * its first byte in *valp and its length in *vlenp.  0 when found, -1
 * when absent or malformed.
 */
static int
json_value(const char *json, size_t len, const char *key, const char **valp,
    size_t *vlenp)
{
	const char	*p, *end = json + len, *k, *q, *v;
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
		q = p - 1;
		p = json_ws(p, end);
		if (p == end || *p++ != ':')
			return (-1);
		v = p = json_ws(p, end);
		if ((p = json_skipval(p, end)) == NULL)
			return (-1);
		if ((size_t)(q - k) == klen && memcmp(k, key, klen) == 0) {
			*valp = v;
			*vlenp = (size_t)(p - v);
			return (0);
		}
		p = json_ws(p, end);
		if (p == end || *p != ',')
			return (-1);
		p++;
	}
}

/*
 * Copy the string value of key in the top-level JSON object into out.
 * 0 when found, -1 when absent, not a string, too long or malformed.
 */
int
json_string(const char *json, size_t len, const char *key, char *out,
    size_t outlen)
{
	const char	*v;
	size_t		 vlen;

	/* A string value ends at its closing quote. */
	if (json_value(json, len, key, &v, &vlen) == -1 || *v != '"')
		return (-1);
	return (json_unescape(v + 1, v + vlen - 1, out, outlen));
}

/* A non-negative integer value of key, at most max. */
static int
json_uint(const char *json, size_t len, const char *key, uint64_t max,
    uint64_t *out)
{
	const char	*v;
	size_t		 vlen, i;
	uint64_t	 n = 0;

	if (json_value(json, len, key, &v, &vlen) == -1 || vlen == 0 ||
	    vlen > 19)
		return (-1);
	for (i = 0; i < vlen; i++) {
		if (v[i] < '0' || v[i] > '9')
			return (-1);
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	if (n > max)
		return (-1);
	*out = n;
	return (0);
}

static int
agent_env_name(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
	    *s == '_'))
		return (0);
	for (s++; *s != '\0'; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '_'))
			return (0);
	return (1);
}

/* The "env" object: NAME -> string value, as "NAME=value" entries. */
static int
agent_bsreq_env(const char *obj, size_t len, struct agent_bsreq *rq)
{
	const char	*p, *end = obj + len, *k, *q, *v;
	char		 name[64], *e;
	size_t		 nlen;

	p = json_ws(obj, end);
	if (p == end || *p++ != '{')
		return (-1);
	p = json_ws(p, end);
	if (p < end && *p == '}')
		return (0);
	for (;;) {
		p = json_ws(p, end);
		if (p == end || *p != '"')
			return (-1);
		k = p;
		if ((p = json_skipstr(p, end)) == NULL)
			return (-1);
		q = p;
		if (json_unescape(k + 1, q - 1, name, sizeof(name)) == -1 ||
		    !agent_env_name(name) || rq->br_nenv == AGENT_ENV_MAX)
			return (-1);
		p = json_ws(p, end);
		if (p == end || *p++ != ':')
			return (-1);
		v = p = json_ws(p, end);
		if (p == end || *p != '"' || (p = json_skipstr(p, end)) == NULL)
			return (-1);
		e = rq->br_env[rq->br_nenv];
		nlen = strlen(name);
		memcpy(e, name, nlen);
		e[nlen] = '=';
		if (json_unescape(v + 1, p - 1, e + nlen + 1,
		    AGENT_ENV_LEN - nlen - 1) == -1)
			return (-1);
		rq->br_nenv++;
		p = json_ws(p, end);
		if (p < end && *p == '}')
			return (0);
		if (p == end || *p++ != ',')
			return (-1);
	}
}

/*
 * A bus frame that is the host's bootstrap request, from the broker:
 * {"payload":{"bootstrap":"run","run_id":..,"reply":"bootstrap:<id>",
 * "env":{..},"timeout_ms":..,"verify":..,"sha256":..,"size":..},
 * "topic":..,"type":"message","vm":"host"}.  0 and *rq filled when it
 * is one and every field is sound, else -1.
 */
int
agent_bsreq_parse(const char *json, size_t len, struct agent_bsreq *rq)
{
	const char	*pl, *env;
	size_t		 pllen, envlen, i;
	char		 word[16];

	memset(rq, 0, sizeof(*rq));
	if (json_string(json, len, "type", word, sizeof(word)) == -1 ||
	    strcmp(word, "message") != 0 ||
	    json_string(json, len, "vm", word, sizeof(word)) == -1 ||
	    strcmp(word, "host") != 0 ||
	    json_value(json, len, "payload", &pl, &pllen) == -1)
		return (-1);
	if (json_string(pl, pllen, "bootstrap", word, sizeof(word)) == -1 ||
	    strcmp(word, "run") != 0)
		return (-1);
	if (json_string(pl, pllen, "run_id", rq->br_runid,
	    sizeof(rq->br_runid)) == -1 || rq->br_runid[0] == '\0')
		return (-1);
	/* It names a directory: digits, hex and dashes only. */
	for (i = 0; rq->br_runid[i] != '\0'; i++)
		if (strchr("0123456789abcdef-", rq->br_runid[i]) == NULL)
			return (-1);
	if (json_string(pl, pllen, "reply", rq->br_reply,
	    sizeof(rq->br_reply)) == -1 ||
	    strncmp(rq->br_reply, "bootstrap:", 10) != 0 ||
	    strcmp(rq->br_reply + 10, rq->br_runid) != 0)
		return (-1);
	if (json_string(pl, pllen, "sha256", rq->br_sha256,
	    sizeof(rq->br_sha256)) == -1 || strlen(rq->br_sha256) != 64 ||
	    strspn(rq->br_sha256, "0123456789abcdef") != 64)
		return (-1);
	if (json_uint(pl, pllen, "size", 64 * 1024 * 1024,
	    &rq->br_size) == -1 ||
	    json_uint(pl, pllen, "timeout_ms", 86400000ULL,
	    &rq->br_timeout_ms) == -1 || rq->br_timeout_ms == 0)
		return (-1);
	if (json_value(pl, pllen, "verify", &env, &envlen) == 0 &&
	    (json_string(pl, pllen, "verify", rq->br_verify,
	    sizeof(rq->br_verify)) == -1 || rq->br_verify[0] == '\0'))
		return (-1);
	if (json_value(pl, pllen, "env", &env, &envlen) == 0 &&
	    agent_bsreq_env(env, envlen, rq) == -1)
		return (-1);
	return (0);
}

/* JSON string body for in: quotes, backslashes and controls escaped. */
int
json_escape(char *out, size_t outlen, const char *in, size_t inlen)
{
	size_t		 i, o = 0;
	unsigned char	 c;

	for (i = 0; i < inlen; i++) {
		c = (unsigned char)in[i];
		if (o + 7 > outlen)
			return (-1);
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else if (c < 0x20 || c >= 0x7f) {
			/* Bytes, not text: anything else is shown as such. */
			snprintf(out + o, 7, "\\u%04x", c);
			o += 6;
		} else
			out[o++] = (char)c;
	}
	if (o >= outlen)
		return (-1);
	out[o] = '\0';
	return (0);
}

static uint64_t
tar_octal(const unsigned char *p, size_t len, int *bad)
{
	uint64_t	 v = 0;
	size_t		 i;

	for (i = 0; i < len && p[i] == ' '; i++)
		;
	for (; i < len && p[i] >= '0' && p[i] <= '7'; i++)
		v = v * 8 + (uint64_t)(p[i] - '0');
	if (i < len && p[i] != '\0' && p[i] != ' ')
		*bad = 1;
	return (v);
}

/*
 * The next entry of the ustar archive tar[0, len) at *offp: 1 and *te,
 * 0 at its end, -1 when malformed.  Only regular files and directories
 * with relative names free of ".." are accepted: the archive must not
 * write outside the directory it is unpacked in.
 */
int
agent_tar_next(const unsigned char *tar, size_t len, size_t *offp,
    struct agent_tarent *te)
{
	const unsigned char	*h;
	unsigned int		 sum = 0, want;
	size_t			 i, off = *offp, blocks;
	int			 bad = 0;
	char			 name[101], prefix[156], check[256], *c, *save;

	if (off > len || len - off < 512)
		return (-1);
	h = tar + off;
	for (i = 0; i < 512 && h[i] == 0; i++)
		;
	if (i == 512)
		return (0);
	for (i = 0; i < 512; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	want = (unsigned int)tar_octal(h + 148, 8, &bad);
	if (bad || sum != want || memcmp(h + 257, "ustar", 5) != 0)
		return (-1);
	memset(te, 0, sizeof(*te));
	memcpy(name, h, 100);
	name[100] = '\0';
	memcpy(prefix, h + 345, 155);
	prefix[155] = '\0';
	if ((size_t)snprintf(te->te_name, sizeof(te->te_name), "%s%s%s",
	    prefix, prefix[0] != '\0' ? "/" : "", name) >=
	    sizeof(te->te_name))
		return (-1);
	if (h[156] == '5')
		te->te_dir = 1;
	else if (h[156] != '0' && h[156] != '\0')
		return (-1);
	te->te_mode = (unsigned int)tar_octal(h + 100, 8, &bad) & 0777;
	te->te_size = (size_t)tar_octal(h + 124, 12, &bad);
	if (bad || (te->te_dir && te->te_size != 0))
		return (-1);
	/* A trailing slash marks a directory; drop it. */
	i = strlen(te->te_name);
	while (i > 0 && te->te_name[i - 1] == '/')
		te->te_name[--i] = '\0';
	if (te->te_name[0] == '\0' || te->te_name[0] == '/')
		return (-1);
	snprintf(check, sizeof(check), "%s", te->te_name);
	for (c = strtok_r(check, "/", &save); c != NULL;
	    c = strtok_r(NULL, "/", &save))
		if (strcmp(c, "..") == 0 || strcmp(c, ".") == 0)
			return (-1);
	blocks = (te->te_size + 511) / 512;
	if (te->te_size > len || blocks > (len - off - 512) / 512)
		return (-1);
	te->te_data = h + 512;
	*offp = off + 512 + blocks * 512;
	return (1);
}
