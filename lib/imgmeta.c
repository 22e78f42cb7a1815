/*
 * Reading and writing the record beside each cached image.  The file
 * sits in a directory that an unprivileged daemon writes, so a reader
 * checks every field before it uses one.
 */

#include <string.h>

#include <jansson.h>

#include "imgmeta.h"

/* Lower-case hex of exactly len digits. */
int
imgmeta_hex_valid(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return (0);
	return (s[len] == '\0');
}

/* What the first bytes of an image say it is. */
const char *
imgmeta_sniff(const unsigned char *head, size_t len)
{
	if (len >= 4 && memcmp(head, "QFI\xfb", 4) == 0)
		return ("qcow2");
	return ("raw");
}

static int
imgmeta_string(json_t *obj, const char *key, char *buf, size_t len,
    int required)
{
	json_t		*v;
	const char	*s;

	if ((v = json_object_get(obj, key)) == NULL)
		return (required ? -1 : 0);
	if (!json_is_string(v))
		return (-1);
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v) || strlcpy(buf, s, len) >= len)
		return (-1);
	return (0);
}

static int
imgmeta_number(json_t *obj, const char *key, int64_t *n)
{
	json_t	*v;

	if ((v = json_object_get(obj, key)) == NULL)
		return (0);
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return (-1);
	*n = json_integer_value(v);
	return (0);
}

static int
imgmeta_urls(json_t *obj, struct imgmeta *mt)
{
	json_t	*v, *u;
	size_t	 i;

	if ((v = json_object_get(obj, "urls")) == NULL)
		return (0);
	if (!json_is_array(v) || json_array_size(v) > CONFIG_URLS_MAX)
		return (-1);
	json_array_foreach(v, i, u) {
		if (!json_is_string(u) ||
		    strlen(json_string_value(u)) != json_string_length(u) ||
		    strlcpy(mt->mt_urls[i], json_string_value(u),
		    sizeof(mt->mt_urls[i])) >= sizeof(mt->mt_urls[i]))
			return (-1);
		mt->mt_nurls++;
	}
	return (0);
}

static int
imgmeta_format_valid(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
			return (0);
	return (1);
}

int
imgmeta_parse(const char *buf, size_t len, struct imgmeta *mt)
{
	json_t		*obj;
	json_error_t	 jerr;
	int64_t		 size = -1;
	int		 rv = -1;

	memset(mt, 0, sizeof(*mt));
	if (len > IMGMETA_MAX)
		return (-1);
	if ((obj = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL)
		return (-1);
	if (!json_is_object(obj) || imgmeta_urls(obj, mt) == -1 ||
	    imgmeta_number(obj, "size", &size) == -1 || size < 0 ||
	    imgmeta_string(obj, "sha256", mt->mt_sha256,
	    sizeof(mt->mt_sha256), 1) == -1 ||
	    !imgmeta_hex_valid(mt->mt_sha256, SHA256_HEX_LEN) ||
	    imgmeta_string(obj, "sha512", mt->mt_sha512,
	    sizeof(mt->mt_sha512), 0) == -1 ||
	    (mt->mt_sha512[0] != '\0' &&
	    !imgmeta_hex_valid(mt->mt_sha512, SHA512_HEX_LEN)) ||
	    imgmeta_string(obj, "format", mt->mt_format,
	    sizeof(mt->mt_format), 0) == -1 ||
	    !imgmeta_format_valid(mt->mt_format) ||
	    imgmeta_number(obj, "fetched_at", &mt->mt_fetched_at) == -1 ||
	    imgmeta_number(obj, "last_used_at", &mt->mt_last_used_at) == -1)
		goto fail;
	mt->mt_size = size;
	rv = 0;
 fail:
	json_decref(obj);
	if (rv == -1)
		memset(mt, 0, sizeof(*mt));
	return (rv);
}

/* The record as one compact line, malloc'd; NULL when out of memory. */
char *
imgmeta_format(const struct imgmeta *mt)
{
	json_t	*obj, *urls;
	char	*s;
	int	 i;

	if ((urls = json_array()) == NULL)
		return (NULL);
	for (i = 0; i < mt->mt_nurls; i++)
		json_array_append_new(urls, json_string(mt->mt_urls[i]));
	obj = json_pack("{s:o,s:I,s:s,s:s,s:s,s:I,s:I}",
	    "urls", urls, "size", (json_int_t)mt->mt_size,
	    "sha256", mt->mt_sha256, "sha512", mt->mt_sha512,
	    "format", mt->mt_format[0] != '\0' ? mt->mt_format : "raw",
	    "fetched_at", (json_int_t)mt->mt_fetched_at,
	    "last_used_at", (json_int_t)mt->mt_last_used_at);
	if (obj == NULL)
		return (NULL);
	s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	return (s);
}
