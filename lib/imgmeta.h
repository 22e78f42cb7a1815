/*
 * The record beside each cached image, images/sha256/<hex>.json:
 *
 *	{"urls":[...],"size":N,"sha256":"<hex>","sha512":"<hex>",
 *	 "format":"qcow2"|"raw","fetched_at":S,"last_used_at":S}
 *
 * castra-imgd writes it; castra image list reads it as a file on disk.
 * Neither trusts it: imgmeta_parse checks every field.
 */

#ifndef CASTRA_IMGMETA_H
#define CASTRA_IMGMETA_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define IMGMETA_MAX		(64 * 1024)	/* largest record read */
#define IMGMETA_FORMAT_MAX	16

struct imgmeta {
	char		mt_urls[CONFIG_URLS_MAX][CONFIG_URL_MAX + 1];
	int		mt_nurls;
	uint64_t	mt_size;
	char		mt_sha256[SHA256_HEX_LEN + 1];
	char		mt_sha512[SHA512_HEX_LEN + 1];	/* "" if unknown */
	char		mt_format[IMGMETA_FORMAT_MAX];
	int64_t		mt_fetched_at;		/* Unix seconds */
	int64_t		mt_last_used_at;
};

int	 imgmeta_parse(const char *, size_t, struct imgmeta *);
char	*imgmeta_format(const struct imgmeta *);
int	 imgmeta_hex_valid(const char *, size_t);
const char *imgmeta_sniff(const unsigned char *, size_t);

#endif /* CASTRA_IMGMETA_H */
