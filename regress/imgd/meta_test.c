/*
 * imgmeta_parse: the record beside a cached image, read by castra image
 * list and by imgd from a directory that imgd's user writes.
 */

#include <stdlib.h>
#include <string.h>

#include <atf-c.h>

#include "imgmeta.h"

#define SHA_A	"9f3b5f1ab3b006fe35a382e3666cbb76" \
		"e9f1e8e977977dcb80256953e4eaade3"

static int
parse(const char *s, struct imgmeta *mt)
{
	return (imgmeta_parse(s, strlen(s), mt));
}

ATF_TC_WITHOUT_HEAD(roundtrip);
ATF_TC_BODY(roundtrip, tc)
{
	struct imgmeta	 mt, back;
	char		*s;

	memset(&mt, 0, sizeof(mt));
	strlcpy(mt.mt_urls[0], "http://127.0.0.1:1/a", sizeof(mt.mt_urls[0]));
	mt.mt_nurls = 1;
	mt.mt_size = 3000000;
	strlcpy(mt.mt_sha256, SHA_A, sizeof(mt.mt_sha256));
	strlcpy(mt.mt_format, "qcow2", sizeof(mt.mt_format));
	mt.mt_fetched_at = 1700000000;
	mt.mt_last_used_at = 1700000100;
	ATF_REQUIRE((s = imgmeta_format(&mt)) != NULL);
	ATF_CHECK_STREQ(s, "{\"urls\":[\"http://127.0.0.1:1/a\"],"
	    "\"size\":3000000,\"sha256\":\"" SHA_A "\",\"sha512\":\"\","
	    "\"format\":\"qcow2\",\"fetched_at\":1700000000,"
	    "\"last_used_at\":1700000100}");
	ATF_REQUIRE_EQ(parse(s, &back), 0);
	ATF_CHECK_EQ(memcmp(&mt, &back, sizeof(mt)), 0);
	free(s);
}

ATF_TC_WITHOUT_HEAD(hostile);
ATF_TC_BODY(hostile, tc)
{
	static const char *bad[] = {
		"",
		"[]",
		"{",
		"null",
		"{\"size\":1}",					/* no sha256 */
		"{\"sha256\":\"abc\"}",				/* short */
		"{\"sha256\":\"" SHA_A "0\"}",			/* long */
		"{\"sha256\":\"9F3B5F1AB3B006FE35A382E3666CBB76E9F1E8E9"
		    "77977DCB80256953E4EAADE3\"}",		/* upper */
		"{\"sha256\":\"" SHA_A "\",\"size\":-1}",
		"{\"sha256\":\"" SHA_A "\",\"size\":\"1\"}",
		"{\"sha256\":\"" SHA_A "\",\"size\":1.5}",
		"{\"sha256\":\"" SHA_A "\",\"sha512\":\"zz\"}",
		"{\"sha256\":\"" SHA_A "\",\"urls\":\"http://x\"}",
		"{\"sha256\":\"" SHA_A "\",\"urls\":[1]}",
		"{\"sha256\":\"" SHA_A "\",\"urls\":[\"a\",\"b\",\"c\",\"d\","
		    "\"e\",\"f\",\"g\",\"h\",\"i\"]}",		/* 9 urls */
		"{\"sha256\":\"" SHA_A "\",\"format\":\"../x\"}",
		"{\"sha256\":\"" SHA_A "\",\"format\":"
		    "\"qcow2qcow2qcow2qcow2\"}",
		"{\"sha256\":\"" SHA_A "\",\"fetched_at\":-5}",
		"{\"sha256\":\"" SHA_A "\",\"sha256\":\"" SHA_A "\"}",
		"{\"sha256\":\"9f3b\\u0000\"}",			/* NUL */
		"{\"sha256\":\"" SHA_A "\",\"urls\":[\"a\\u0000b\"]}",
	};
	struct imgmeta	 mt;
	char		 big[IMGMETA_MAX + 2];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&mt, 0x55, sizeof(mt));
		ATF_CHECK_MSG(parse(bad[i], &mt) == -1, "accepted: %s",
		    bad[i]);
		ATF_CHECK_EQ(mt.mt_sha256[0], '\0');
	}
	memset(big, ' ', sizeof(big));
	ATF_CHECK_EQ(imgmeta_parse(big, sizeof(big), &mt), -1);
	/* The least that is accepted. */
	ATF_CHECK_EQ(parse("{\"sha256\":\"" SHA_A "\",\"size\":0}", &mt), 0);
	ATF_CHECK_EQ(parse("{\"sha256\":\"" SHA_A "\"}", &mt), -1);
}

ATF_TC_WITHOUT_HEAD(sniff);
ATF_TC_BODY(sniff, tc)
{
	ATF_CHECK_STREQ(imgmeta_sniff((const unsigned char *)"QFI\xfb\0\0\0\3",
	    8), "qcow2");
	ATF_CHECK_STREQ(imgmeta_sniff((const unsigned char *)"QFI", 3),
	    "raw");
	ATF_CHECK_STREQ(imgmeta_sniff((const unsigned char *)"", 0), "raw");
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, roundtrip);
	ATF_TP_ADD_TC(tp, hostile);
	ATF_TP_ADD_TC(tp, sniff);
	return (atf_no_error());
}
