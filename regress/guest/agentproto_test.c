/*
 * castra-agent's parsers against good and hostile input: the kernel
 * command line, the broker's lines, bus frames and the JSON in them.
 */

#include <sys/types.h>

#include <string.h>

#include <atf-c.h>

#include "../../guest/agent.h"

ATF_TC_WITHOUT_HEAD(names_tokens_ports);
ATF_TC_BODY(names_tokens_ports, tc)
{
	char		 longname[AGENT_NAME_MAX + 2];
	uint16_t	 port;

	ATF_CHECK(agent_valid_name("devbox-0"));
	ATF_CHECK(agent_valid_name("a.b_c"));
	ATF_CHECK(!agent_valid_name(""));
	ATF_CHECK(!agent_valid_name("a b"));
	ATF_CHECK(!agent_valid_name("../x"));
	ATF_CHECK(!agent_valid_name("x\ny"));
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ATF_CHECK(!agent_valid_name(longname));
	longname[AGENT_NAME_MAX] = '\0';
	ATF_CHECK(agent_valid_name(longname));

	ATF_CHECK(agent_valid_token("00ff"));
	ATF_CHECK(!agent_valid_token(""));
	ATF_CHECK(!agent_valid_token("00fg"));
	ATF_CHECK(!agent_valid_token("00 ff"));

	ATF_CHECK(agent_parse_port("7070", &port) == 0 && port == 7070);
	ATF_CHECK(agent_parse_port("65535", &port) == 0 && port == 65535);
	ATF_CHECK(agent_parse_port("0", &port) == -1);
	ATF_CHECK(agent_parse_port("65536", &port) == -1);
	ATF_CHECK(agent_parse_port("-1", &port) == -1);
	ATF_CHECK(agent_parse_port("+1", &port) == -1);
	ATF_CHECK(agent_parse_port("70x", &port) == -1);
	ATF_CHECK(agent_parse_port("", &port) == -1);
	ATF_CHECK(agent_parse_port("99999999999999999999", &port) == -1);
}

ATF_TC_WITHOUT_HEAD(cmdline);
ATF_TC_BODY(cmdline, tc)
{
	struct agent_config	 ac;
	const char		*line;
	const char		 nul[] = "castra.name=a\0castra.port=9";

	line = "console=ttyS0 castra.name=vm1 castra.port=7071 quiet "
	    "castra.token=abcd\n";
	memset(&ac, 0, sizeof(ac));
	ATF_CHECK_EQ(agent_cmdline(line, strlen(line), &ac), 0);
	ATF_CHECK_STREQ(ac.ac_name, "vm1");
	ATF_CHECK_EQ(ac.ac_port, 7071);
	ATF_CHECK_STREQ(ac.ac_token, "abcd");

	/* Bad values are skipped and reported, good ones kept. */
	line = "castra.name=../etc castra.port=0 castra.token=zz "
	    "castra.bogus=1 castra.name";
	ATF_CHECK_EQ(agent_cmdline(line, strlen(line), &ac), -1);
	ATF_CHECK_STREQ(ac.ac_name, "vm1");
	ATF_CHECK_EQ(ac.ac_port, 7071);
	ATF_CHECK_STREQ(ac.ac_token, "abcd");

	/* Words longer than the buffer do not overflow it. */
	{
		char	 big[1024];

		memcpy(big, "castra.name=", 12);
		memset(big + 12, 'x', sizeof(big) - 12);
		ATF_CHECK_EQ(agent_cmdline(big, sizeof(big), &ac), -1);
		ATF_CHECK_STREQ(ac.ac_name, "vm1");
	}

	/* A NUL separates like a space. */
	memset(&ac, 0, sizeof(ac));
	ATF_CHECK_EQ(agent_cmdline(nul, sizeof(nul) - 1, &ac), 0);
	ATF_CHECK_STREQ(ac.ac_name, "a");
	ATF_CHECK_EQ(ac.ac_port, 9);
}

ATF_TC_WITHOUT_HEAD(hello);
ATF_TC_BODY(hello, tc)
{
	struct agent_config	 ac;
	char			 buf[AGENT_LINE_MAX + 2];

	memset(&ac, 0, sizeof(ac));
	strcpy(ac.ac_name, "devbox");
	ATF_CHECK_EQ(agent_hello(buf, sizeof(buf), &ac), 49);
	ATF_CHECK_STREQ(buf,
	    "hello vm:devbox capabilities=bus-v1,bootstrap-v1\n");
	strcpy(ac.ac_token, "0123abcd");
	ATF_CHECK(agent_hello(buf, sizeof(buf), &ac) > 0);
	ATF_CHECK_STREQ(buf,
	    "hello vm:devbox capabilities=bus-v1,bootstrap-v1 "
	    "token=0123abcd\n");
	ATF_CHECK_EQ(agent_hello(buf, 10, &ac), -1);
	strcpy(ac.ac_name, "bad name");
	ATF_CHECK_EQ(agent_hello(buf, sizeof(buf), &ac), -1);
}

ATF_TC_WITHOUT_HEAD(lines);
ATF_TC_BODY(lines, tc)
{
	char	 buf[AGENT_LINE_MAX + 8], word[AGENT_SESSION_MAX + 1];
	size_t	 n;

	ATF_CHECK_EQ(agent_line("abc\nrest", 8, &n), 1);
	ATF_CHECK_EQ(n, 3);
	ATF_CHECK_EQ(agent_line("abc", 3, &n), 0);
	ATF_CHECK_EQ(agent_line("a\0c\n", 4, &n), -1);
	memset(buf, 'x', sizeof(buf));
	ATF_CHECK_EQ(agent_line(buf, AGENT_LINE_MAX, &n), 0);
	ATF_CHECK_EQ(agent_line(buf, sizeof(buf), &n), -1);
	buf[AGENT_LINE_MAX] = '\n';
	ATF_CHECK_EQ(agent_line(buf, sizeof(buf), &n), 1);
	ATF_CHECK_EQ(n, AGENT_LINE_MAX);

	ATF_CHECK_EQ(agent_greeting("castra-broker 0.1 ready"), 0);
	ATF_CHECK_EQ(agent_greeting("castra-broker 0.2 ready"), 0);
	ATF_CHECK_EQ(agent_greeting("castra-broker  ready"), -1);
	ATF_CHECK_EQ(agent_greeting("castra-broker ready"), -1);
	ATF_CHECK_EQ(agent_greeting("castra-broker 0.1 readyx"), -1);
	ATF_CHECK_EQ(agent_greeting("SSH-2.0-OpenSSH"), -1);
	ATF_CHECK_EQ(agent_greeting(""), -1);

	ATF_CHECK_EQ(agent_reply("ok session=s-1", word, sizeof(word)),
	    AGENT_REPLY_OK);
	ATF_CHECK_STREQ(word, "s-1");
	ATF_CHECK_EQ(agent_reply("ok session=s-2\r", word, sizeof(word)),
	    AGENT_REPLY_OK);
	ATF_CHECK_STREQ(word, "s-2");
	ATF_CHECK_EQ(agent_reply("denied reason=unauthorized", word,
	    sizeof(word)), AGENT_REPLY_DENIED);
	ATF_CHECK_STREQ(word, "unauthorized");
	ATF_CHECK_EQ(agent_reply("ok session=", word, sizeof(word)),
	    AGENT_REPLY_BAD);
	ATF_CHECK_EQ(agent_reply("ok session=a b", word, sizeof(word)),
	    AGENT_REPLY_BAD);
	ATF_CHECK_EQ(agent_reply("ok session=a\rb", word, sizeof(word)),
	    AGENT_REPLY_BAD);
	ATF_CHECK_EQ(agent_reply("ok", word, sizeof(word)), AGENT_REPLY_BAD);
	ATF_CHECK_EQ(agent_reply("error: protocol", word, sizeof(word)),
	    AGENT_REPLY_BAD);
	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "ok session=", 11);
	buf[11 + AGENT_SESSION_MAX + 1] = '\0';
	ATF_CHECK_EQ(agent_reply(buf, word, sizeof(word)), AGENT_REPLY_BAD);
	buf[11 + AGENT_SESSION_MAX] = '\0';
	ATF_CHECK_EQ(agent_reply(buf, word, sizeof(word)), AGENT_REPLY_OK);
	ATF_CHECK_EQ(strlen(word), AGENT_SESSION_MAX);
	ATF_CHECK_EQ(agent_reply(buf, word, 8), AGENT_REPLY_BAD);
}

ATF_TC_WITHOUT_HEAD(frames);
ATF_TC_BODY(frames, tc)
{
	static unsigned char	 buf[AGENT_FRAME_MAX + 16];
	const unsigned char	*p;
	char			 out[64];
	size_t			 plen;

	ATF_CHECK_EQ(frame_encode(out, sizeof(out), "{\"type\":\"heartbeat\"}"),
	    24);
	ATF_CHECK(memcmp(out, "\0\0\0\x14{\"type\"", 11) == 0);
	ATF_CHECK_EQ(frame_encode(out, sizeof(out), ""), -1);
	ATF_CHECK_EQ(frame_encode(out, 10, "{\"type\":\"heartbeat\"}"), -1);

	ATF_CHECK_EQ(frame_decode((unsigned char *)out, 24, &p, &plen), 24);
	ATF_CHECK_EQ(plen, 20);
	ATF_CHECK(memcmp(p, "{\"type\":\"heartbeat\"}", 20) == 0);
	ATF_CHECK_EQ(frame_decode((unsigned char *)out, 3, &p, &plen), 0);
	ATF_CHECK_EQ(frame_decode((unsigned char *)out, 23, &p, &plen), 0);

	memcpy(buf, "\0\0\0\0", 4);
	ATF_CHECK_EQ(frame_decode(buf, 4, &p, &plen), -1);
	memcpy(buf, "\xff\xff\xff\xff", 4);
	ATF_CHECK_EQ(frame_decode(buf, 4, &p, &plen), -1);
	memcpy(buf, "\0\x01\0\x01", 4);
	ATF_CHECK_EQ(frame_decode(buf, sizeof(buf), &p, &plen), -1);
	memcpy(buf, "\0\x01\0\0", 4);
	ATF_CHECK_EQ(frame_decode(buf, sizeof(buf), &p, &plen),
	    AGENT_FRAME_MAX + 4);
}

static int
js(const char *json, const char *key, char *out, size_t len)
{
	return (json_string(json, strlen(json), key, out, len));
}

ATF_TC_WITHOUT_HEAD(json);
ATF_TC_BODY(json, tc)
{
	char	 out[16], deep[4096];

	ATF_CHECK_EQ(js("{\"ack\":\"heartbeat\",\"status\":\"ok\","
	    "\"type\":\"ack\"}", "type", out, sizeof(out)), 0);
	ATF_CHECK_STREQ(out, "ack");
	ATF_CHECK_EQ(js(" { \"a\" : [1, {\"type\":\"x\"}, \"]\"] , "
	    "\"n\": -1.5e3, \"t\":true, \"type\" : \"message\" } ", "type",
	    out, sizeof(out)), 0);
	ATF_CHECK_STREQ(out, "message");
	ATF_CHECK_EQ(js("{\"type\":\"a\\\"b\\\\c\\u0041\\u00e9\"}", "type",
	    out, sizeof(out)), 0);
	ATF_CHECK_STREQ(out, "a\"b\\cA?");

	/* A nested "type" is not the frame's. */
	ATF_CHECK_EQ(js("{\"p\":{\"type\":\"x\"}}", "type", out,
	    sizeof(out)), -1);
	ATF_CHECK_EQ(js("{}", "type", out, sizeof(out)), -1);
	ATF_CHECK_EQ(js("", "type", out, sizeof(out)), -1);
	ATF_CHECK_EQ(js("[\"type\",\"x\"]", "type", out, sizeof(out)), -1);
	ATF_CHECK_EQ(js("{\"type\":1}", "type", out, sizeof(out)), -1);
	ATF_CHECK_EQ(js("{\"type\":\"x", "type", out, sizeof(out)), -1);
	ATF_CHECK_EQ(js("{\"type\" \"x\"}", "type", out, sizeof(out)), -1);
	ATF_CHECK_EQ(js("{\"a\":1 \"type\":\"x\"}", "type", out,
	    sizeof(out)), -1);
	ATF_CHECK_EQ(js("{\"a\":,\"type\":\"x\"}", "type", out,
	    sizeof(out)), -1);
	ATF_CHECK_EQ(js("{\"type\":\"\\u0000\"}", "type", out, sizeof(out)),
	    -1);
	ATF_CHECK_EQ(js("{\"type\":\"\\u00zz\"}", "type", out, sizeof(out)),
	    -1);
	ATF_CHECK_EQ(js("{\"type\":\"\\q\"}", "type", out, sizeof(out)), -1);
	ATF_CHECK_EQ(js("{\"type\":\"tab\there\"}", "type", out,
	    sizeof(out)), -1);
	ATF_CHECK_EQ(js("{\"type\":\"0123456789abcdef\"}", "type", out,
	    sizeof(out)), -1);
	ATF_CHECK_EQ(json_string("{\"type\":\"x\"}", 10, "type", out,
	    sizeof(out)), -1);

	/* Deep nesting costs no stack. */
	memset(deep, '[', sizeof(deep));
	memcpy(deep, "{\"a\":", 5);
	deep[sizeof(deep) - 1] = '\0';
	ATF_CHECK_EQ(js(deep, "type", out, sizeof(out)), -1);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, names_tokens_ports);
	ATF_TP_ADD_TC(tp, cmdline);
	ATF_TP_ADD_TC(tp, hello);
	ATF_TP_ADD_TC(tp, lines);
	ATF_TP_ADD_TC(tp, frames);
	ATF_TP_ADD_TC(tp, json);
	return (atf_no_error());
}
