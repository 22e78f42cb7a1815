/*
 * The hello line: the first and only text a client sends, from any
 * guest on the project's network, so nothing in it is trusted.  This
 * file has no I/O and no state: it parses a line into a struct hello and
 * decides the outcome, so that it can be fuzzed on its own.
 *
 *	hello vm:<name> capabilities=<a,b,...>[ token=<hex>]
 *
 * The keyword is case-insensitive.  Tokens are separated by spaces or
 * tabs; several capabilities= tokens merge; other key=value tokens are
 * ignored so that later clients may add some.
 */

#include <sys/types.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"

static int	hello_token(struct hello *, char *, int *, const char **);
static int	hello_caps(struct hello *, char *, const char **);
static int	hello_cap_add(struct hello *, const char *, const char **);
static int	hello_cap_cmp(const void *, const void *);

/*
 * Parse len bytes of line (the newline already cut off).  Returns 0, or
 * -1 with *errstr saying what is wrong for the operator's log.
 */
int
hello_parse(const char *line, size_t len, struct hello *h, const char **errstr)
{
	char	 buf[HELLO_LINE_MAX + 1], *p, *tok;
	size_t	 i, ntok = 0;
	int	 incaps = 0;

	memset(h, 0, sizeof(*h));
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > HELLO_LINE_MAX) {
		*errstr = "line too long";
		return (-1);
	}
	/* Nothing unprintable reaches a log line or a file name. */
	for (i = 0; i < len; i++) {
		if ((line[i] < 0x20 && line[i] != '\t') ||
		    (unsigned char)line[i] >= 0x7f) {
			*errstr = "control or non-ASCII byte";
			return (-1);
		}
	}
	memcpy(buf, line, len);
	buf[len] = '\0';

	p = buf;
	while ((tok = strsep(&p, " \t")) != NULL) {
		if (*tok == '\0')
			continue;
		if (ntok == 0 && strcasecmp(tok, "hello") != 0) {
			*errstr = "not a hello";
			return (-1);
		} else if (ntok == 1) {
			if (strncmp(tok, "vm:", 3) != 0 ||
			    !proto_name_valid(tok + 3)) {
				*errstr = "bad vm:<name>";
				return (-1);
			}
			strlcpy(h->h_name, tok + 3, sizeof(h->h_name));
		} else if (ntok > 1 && hello_token(h, tok, &incaps,
		    errstr) == -1)
			return (-1);
		ntok++;
	}
	if (ntok < 2) {
		*errstr = ntok == 0 ? "empty line" : "no vm:<name>";
		return (-1);
	}
	qsort(h->h_caps, h->h_ncaps, sizeof(h->h_caps[0]), hello_cap_cmp);
	return (0);
}

/*
 * One token after the name.  Words without '=' that follow the
 * capabilities continue its list, so "capabilities=a, b" is a and b.
 */
static int
hello_token(struct hello *h, char *tok, int *incaps, const char **errstr)
{
	size_t	 i, len;

	if (*incaps && strchr(tok, '=') == NULL)
		return (hello_caps(h, tok, errstr));
	*incaps = 0;
	if (strncasecmp(tok, "capabilities=", 13) == 0) {
		*incaps = 1;
		return (hello_caps(h, tok + 13, errstr));
	}
	if (strncasecmp(tok, "token=", 6) == 0) {
		tok += 6;
		len = strlen(tok);
		if (h->h_has_token || len == 0 || len > TOKEN_HEX_LEN) {
			*errstr = "bad token";
			return (-1);
		}
		for (i = 0; i < len; i++)
			if (!isxdigit((unsigned char)tok[i])) {
				*errstr = "bad token";
				return (-1);
			}
		strlcpy(h->h_token, tok, sizeof(h->h_token));
		h->h_has_token = 1;
		return (0);
	}
	if (strchr(tok, '=') == NULL) {
		*errstr = "unexpected word";
		return (-1);
	}
	return (0);
}

/*
 * A comma-separated list; the spaces around items were taken off by
 * the split into words, and empty items are skipped.
 */
static int
hello_caps(struct hello *h, char *list, const char **errstr)
{
	char	*item;

	while ((item = strsep(&list, ",")) != NULL) {
		if (*item == '\0')
			continue;
		if (hello_cap_add(h, item, errstr) == -1)
			return (-1);
	}
	return (0);
}

/* Add a capability unless one of any case is there: the first wins. */
static int
hello_cap_add(struct hello *h, const char *cap, const char **errstr)
{
	const char	*p;
	size_t		 i;

	if (strlen(cap) > HELLO_CAP_LEN) {
		*errstr = "capability too long";
		return (-1);
	}
	for (p = cap; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' &&
		    *p != '.' && *p != ':') {
			*errstr = "bad capability";
			return (-1);
		}
	for (i = 0; i < h->h_ncaps; i++)
		if (strcasecmp(h->h_caps[i], cap) == 0)
			return (0);
	if (h->h_ncaps == HELLO_CAPS_MAX) {
		*errstr = "too many capabilities";
		return (-1);
	}
	strlcpy(h->h_caps[h->h_ncaps++], cap, sizeof(h->h_caps[0]));
	return (0);
}

static int
hello_cap_cmp(const void *a, const void *b)
{
	return (strcasecmp(a, b));
}

int
hello_has_cap(const struct hello *h, const char *cap)
{
	size_t	 i;

	for (i = 0; i < h->h_ncaps; i++)
		if (strcasecmp(h->h_caps[i], cap) == 0)
			return (1);
	return (0);
}

/* "a,b,c", or "" when there are none. */
void
hello_caps_join(const struct hello *h, char *buf, size_t len)
{
	size_t	 i;

	buf[0] = '\0';
	for (i = 0; i < h->h_ncaps; i++) {
		if (i > 0)
			strlcat(buf, ",", len);
		strlcat(buf, h->h_caps[i], len);
	}
}

/*
 * Compare a presented token without an early exit, so that the time
 * taken says nothing about how much of it was right.
 */
static int
hello_token_equal(const struct hello *h, const char *want)
{
	size_t		 i, len = strlen(want);
	unsigned char	 diff = 0;

	if (len == 0 || !h->h_has_token || strlen(h->h_token) != len)
		return (0);
	for (i = 0; i < len; i++)
		diff |= (unsigned char)h->h_token[i] ^ (unsigned char)want[i];
	return (diff == 0);
}

/*
 * The outcome of a parsed hello: NULL when granted, else the reason.
 * projtoken is the project's host-session secret; vmtoken the token
 * castra gave a VM of that name, or NULL when castra launched none.
 */
const char *
hello_check(const struct hello *h, const char *projtoken,
    const char *vmtoken, enum session_kind *kind)
{
	*kind = hello_has_cap(h, HELLO_CAP_HOST) ? KIND_HOST : KIND_GUEST;

	if (!hello_has_cap(h, HELLO_CAP_BUS))
		return ("missing-capability");
	if (*kind == KIND_GUEST && strcasecmp(h->h_name, HELLO_HOST_NAME) == 0)
		return ("reserved-identity");
	if (*kind == KIND_HOST && !hello_token_equal(h, projtoken))
		return ("unauthorized");
	if (*kind == KIND_GUEST && vmtoken != NULL && *vmtoken != '\0' &&
	    !hello_token_equal(h, vmtoken))
		return ("unauthorized");
	return (NULL);
}
