/*
 * castra-agent's bootstrap parsers (guest/agentproto.c) with good and
 * hostile input: the host's request as the broker delivers it, the
 * ustar archive from fw_cfg (made here by castra's own writer), and
 * the escaping of what the agent sends back.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <atf-c.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../guest/agent.h"
#include "bootstrap.h"

#define SHA	"0123456789abcdef0123456789abcdef" \
		"0123456789abcdef0123456789abcdef"

static struct agent_bsreq	 rq;

static int
parse(const char *s)
{
	return (agent_bsreq_parse(s, strlen(s), &rq));
}

/* A request frame with payload fields p (without braces). */
static char *
frame(const char *vm, const char *p)
{
	char	*s;

	if (asprintf(&s, "{\"payload\":{%s},\"timestamp\":1,"
	    "\"topic\":\"vm:web\",\"type\":\"message\",\"vm\":\"%s\"}", p,
	    vm) == -1)
		atf_tc_fail("out of memory");
	return (s);
}

#define GOOD	"\"bootstrap\":\"run\",\"run_id\":\"17-ab\"," \
		"\"reply\":\"bootstrap:17-ab\",\"sha256\":\"" SHA "\"," \
		"\"size\":2048,\"timeout_ms\":5000"

ATF_TC_WITHOUT_HEAD(request_good);
ATF_TC_BODY(request_good, tc)
{
	char	*f;

	f = frame("host", GOOD ",\"verify\":\"test -f /x\","
	    "\"env\":{\"A\":\"two  words\",\"Q\":\"it's \\\"q\\\" $x "
	    "\\\\b\",\"_z9\":\"\"}");
	ATF_REQUIRE(parse(f) == 0);
	free(f);
	ATF_CHECK_STREQ(rq.br_runid, "17-ab");
	ATF_CHECK_STREQ(rq.br_reply, "bootstrap:17-ab");
	ATF_CHECK_STREQ(rq.br_verify, "test -f /x");
	ATF_CHECK_EQ(rq.br_size, 2048);
	ATF_CHECK_EQ(rq.br_timeout_ms, 5000);
	ATF_REQUIRE_EQ(rq.br_nenv, 3);
	ATF_CHECK_STREQ(rq.br_env[0], "A=two  words");
	ATF_CHECK_STREQ(rq.br_env[1], "Q=it's \"q\" $x \\b");
	ATF_CHECK_STREQ(rq.br_env[2], "_z9=");
	/* Key order and whitespace are the broker's business. */
	ATF_CHECK(parse("{ \"vm\" : \"host\", \"type\":\"message\", "
	    "\"payload\" : {" GOOD ", \"env\" : { } } }") == 0);
	ATF_CHECK_EQ(rq.br_nenv, 0);
	ATF_CHECK_STREQ(rq.br_verify, "");
}

ATF_TC_WITHOUT_HEAD(request_hostile);
ATF_TC_BODY(request_hostile, tc)
{
	char		 many[8192], *f;
	size_t		 i;
	const char	*bad[] = {
		"", "{", "[]", "{\"payload\":{}}",
		/* Only the host may ask. */
		frame("web", GOOD), frame("db", GOOD),
		frame("host", "\"bootstrap\":\"stop\",\"run_id\":\"17-ab\","
		    "\"reply\":\"bootstrap:17-ab\",\"sha256\":\"" SHA "\","
		    "\"size\":1,\"timeout_ms\":1"),
		/* The run id names a directory. */
		frame("host", "\"bootstrap\":\"run\",\"run_id\":\"../x\","
		    "\"reply\":\"bootstrap:../x\",\"sha256\":\"" SHA "\","
		    "\"size\":1,\"timeout_ms\":1"),
		frame("host", "\"bootstrap\":\"run\",\"run_id\":\"\","
		    "\"reply\":\"bootstrap:\",\"sha256\":\"" SHA "\","
		    "\"size\":1,\"timeout_ms\":1"),
		frame("host", "\"bootstrap\":\"run\",\"run_id\":\"17-ab\","
		    "\"reply\":\"bootstrap:17-ac\",\"sha256\":\"" SHA "\","
		    "\"size\":1,\"timeout_ms\":1"),
		frame("host", "\"bootstrap\":\"run\",\"run_id\":\"17-ab\","
		    "\"reply\":\"bootstrap:17-ab\",\"sha256\":\"xyz\","
		    "\"size\":1,\"timeout_ms\":1"),
		frame("host", "\"bootstrap\":\"run\",\"run_id\":\"17-ab\","
		    "\"reply\":\"bootstrap:17-ab\",\"sha256\":\"" SHA "\","
		    "\"size\":99999999999,\"timeout_ms\":1"),
		frame("host", "\"bootstrap\":\"run\",\"run_id\":\"17-ab\","
		    "\"reply\":\"bootstrap:17-ab\",\"sha256\":\"" SHA "\","
		    "\"size\":-1,\"timeout_ms\":1"),
		frame("host", "\"bootstrap\":\"run\",\"run_id\":\"17-ab\","
		    "\"reply\":\"bootstrap:17-ab\",\"sha256\":\"" SHA "\","
		    "\"size\":1,\"timeout_ms\":0"),
		frame("host", GOOD ",\"verify\":\"\""),
		frame("host", GOOD ",\"verify\":7"),
		frame("host", GOOD ",\"env\":{\"1A\":\"x\"}"),
		frame("host", GOOD ",\"env\":{\"A-B\":\"x\"}"),
		frame("host", GOOD ",\"env\":{\"A\":7}"),
		frame("host", GOOD ",\"env\":{\"A\":\"\\u0000\"}"),
		frame("host", GOOD ",\"env\":[\"A\"]"),
		frame("host", GOOD ",\"env\":{\"A\":\"x\""),
	};

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ATF_CHECK_MSG(parse(bad[i]) == -1, "accepted %s", bad[i]);
		if (i >= 4)
			free((char *)bad[i]);
	}
	/* More than 32 variables. */
	snprintf(many, sizeof(many), "%s,\"env\":{", GOOD);
	for (i = 0; i < 33; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many),
		    "%s\"V%zu\":\"x\"", i ? "," : "", i);
	strlcat(many, "}", sizeof(many));
	f = frame("host", many);
	ATF_CHECK(parse(f) == -1);
	free(f);
}

/* castra's tar of a small tree, as the agent reads it from fw_cfg. */
ATF_TC_WITHOUT_HEAD(tar_roundtrip);
ATF_TC_BODY(tar_roundtrip, tc)
{
	struct bootstrap_tar	 bt;
	struct agent_tarent	 te;
	size_t			 off = 0;
	int			 fd;

	ATF_REQUIRE(mkdir("d", 0755) == 0);
	ATF_REQUIRE(mkdir("d/payload", 0750) == 0);
	ATF_REQUIRE((fd = open("d/run.sh", O_WRONLY | O_CREAT, 0755)) != -1);
	ATF_REQUIRE(write(fd, "#!/bin/sh\n", 10) == 10);
	close(fd);
	ATF_REQUIRE(chmod("d/run.sh", 0755) == 0);
	ATF_REQUIRE(bootstrap_tar_make(&bt, "d") == 0);

	ATF_REQUIRE_EQ(agent_tar_next(bt.bt_buf, bt.bt_len, &off, &te), 1);
	ATF_CHECK_STREQ(te.te_name, "payload");
	ATF_CHECK(te.te_dir);
	ATF_CHECK_EQ(te.te_mode, 0750);
	ATF_REQUIRE_EQ(agent_tar_next(bt.bt_buf, bt.bt_len, &off, &te), 1);
	ATF_CHECK_STREQ(te.te_name, "run.sh");
	ATF_CHECK(!te.te_dir);
	ATF_CHECK_EQ(te.te_mode, 0755);
	ATF_CHECK_EQ(te.te_size, 10);
	ATF_CHECK(memcmp(te.te_data, "#!/bin/sh\n", 10) == 0);
	ATF_CHECK_EQ(agent_tar_next(bt.bt_buf, bt.bt_len, &off, &te), 0);
	bootstrap_tar_free(&bt);
}

/* One header block with name and type, a valid checksum, size. */
static void
header(unsigned char *h, const char *name, char type, const char *size)
{
	unsigned int	 sum = 0;
	int		 i;

	memset(h, 0, 512);
	memcpy(h, name, strlen(name));
	memcpy(h + 100, "0000644", 7);
	memcpy(h + 124, size, strlen(size));
	h[156] = type;
	memcpy(h + 257, "ustar", 6);
	memset(h + 148, ' ', 8);
	for (i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
}

ATF_TC_WITHOUT_HEAD(tar_hostile);
ATF_TC_BODY(tar_hostile, tc)
{
	unsigned char		 t[2048];
	struct agent_tarent	 te;
	size_t			 off, i;
	const char		*names[] = {
		"../evil", "a/../../evil", "/etc/passwd", "./x", "a/./b", ""
	};

	memset(t, 0, sizeof(t));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		header(t, names[i], '0', "00000000000");
		off = 0;
		ATF_CHECK_MSG(agent_tar_next(t, sizeof(t), &off, &te) == -1,
		    "accepted %s", names[i]);
	}
	/* A symbolic link, a device, a hard link. */
	header(t, "link", '2', "00000000000");
	off = 0;
	ATF_CHECK(agent_tar_next(t, sizeof(t), &off, &te) == -1);
	header(t, "dev", '3', "00000000000");
	off = 0;
	ATF_CHECK(agent_tar_next(t, sizeof(t), &off, &te) == -1);
	header(t, "hard", '1', "00000000000");
	off = 0;
	ATF_CHECK(agent_tar_next(t, sizeof(t), &off, &te) == -1);
	/* Data past the end, a huge size, a bad checksum. */
	header(t, "big", '0', "00000004000");
	off = 0;
	ATF_CHECK(agent_tar_next(t, sizeof(t), &off, &te) == -1);
	header(t, "huge", '0', "77777777777");
	off = 0;
	ATF_CHECK(agent_tar_next(t, sizeof(t), &off, &te) == -1);
	header(t, "ok", '0', "00000000004");
	off = 0;
	ATF_CHECK(agent_tar_next(t, sizeof(t), &off, &te) == 1);
	t[0] = 'O';
	off = 0;
	ATF_CHECK(agent_tar_next(t, sizeof(t), &off, &te) == -1);
	/* A short buffer. */
	header(t, "ok", '0', "00000000000");
	off = 0;
	ATF_CHECK(agent_tar_next(t, 100, &off, &te) == -1);
}

ATF_TC_WITHOUT_HEAD(escape);
ATF_TC_BODY(escape, tc)
{
	char	 out[64];

	ATF_REQUIRE(json_escape(out, sizeof(out), "a\"b\\c\nd\x1b\x7f\xff",
	    10) == 0);
	ATF_CHECK_STREQ(out, "a\\\"b\\\\c\\nd\\u001b\\u007f\\u00ff");
	ATF_CHECK(json_escape(out, 8, "\x01\x02", 2) == -1);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, request_good);
	ATF_TP_ADD_TC(tp, request_hostile);
	ATF_TP_ADD_TC(tp, tar_roundtrip);
	ATF_TP_ADD_TC(tp, tar_hostile);
	ATF_TP_ADD_TC(tp, escape);
	return (atf_no_error());
}
