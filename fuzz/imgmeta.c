/*
 * Fuzz the record beside each cached image (lib/imgmeta.c), which
 * castra image list and castra-imgd read from a directory that the
 * unprivileged imgd writes.  A record that parses must hold what the
 * cache may use, and must come out of imgmeta_format the same again.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imgmeta.h"
#include "fuzz.h"

static void
imgmeta_invariants(const struct imgmeta *mt)
{
	struct imgmeta	 again;
	char		*s;
	int		 i;

	if (!imgmeta_hex_valid(mt->mt_sha256, SHA256_HEX_LEN) ||
	    (mt->mt_sha512[0] != '\0' &&
	    !imgmeta_hex_valid(mt->mt_sha512, SHA512_HEX_LEN)) ||
	    mt->mt_nurls < 0 || mt->mt_nurls > CONFIG_URLS_MAX ||
	    mt->mt_fetched_at < 0 || mt->mt_last_used_at < 0 ||
	    strchr(mt->mt_format, '/') != NULL)
		abort();
	for (i = 0; i < mt->mt_nurls; i++)
		if (strlen(mt->mt_urls[i]) > CONFIG_URL_MAX)
			abort();
	if ((s = imgmeta_format(mt)) == NULL)
		abort();
	if (imgmeta_parse(s, strlen(s), &again) == -1)
		abort();
	free(s);
	/* The printer writes "raw" for a record without a format. */
	if (mt->mt_format[0] == '\0')
		memset(again.mt_format, 0, sizeof(again.mt_format));
	if (memcmp(mt, &again, sizeof(again)) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct imgmeta	 mt;

	if (imgmeta_parse((const char *)data, len, &mt) == 0)
		imgmeta_invariants(&mt);
	return (0);
}
