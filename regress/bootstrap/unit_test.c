/*
 * The pieces of the bootstrap pipeline that need no guest: the tar
 * writer (checked header by header, then unpacked by tar(1)) and what
 * is kept of a guest's output, with hostile input.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <atf-c.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootstrap.h"

static void
put(const char *path, const char *text, mode_t mode)
{
	int	 fd;

	ATF_REQUIRE((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC,
	    mode)) != -1);
	ATF_REQUIRE(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	ATF_REQUIRE(fchmod(fd, mode) == 0);
	close(fd);
}

static unsigned long long
octal(const unsigned char *p, size_t len)
{
	char	 buf[16];

	memcpy(buf, p, len);
	buf[len] = '\0';
	return (strtoull(buf, NULL, 8));
}

/* Walk the archive: names in order, modes, sizes and checksums. */
static size_t
walk(const struct bootstrap_tar *bt, char names[][300], mode_t *modes,
    size_t max)
{
	const unsigned char	*h;
	unsigned int		 sum;
	size_t			 off = 0, n = 0, i, size;

	while (off + 512 <= bt->bt_len) {
		h = bt->bt_buf + off;
		for (i = 0; i < 512 && h[i] == 0; i++)
			;
		if (i == 512)
			break;
		ATF_REQUIRE(n < max);
		sum = 0;
		for (i = 0; i < 512; i++)
			sum += i >= 148 && i < 156 ? ' ' : h[i];
		ATF_REQUIRE_EQ(sum, octal(h + 148, 7));
		ATF_REQUIRE(memcmp(h + 257, "ustar", 6) == 0);
		if (h[345] != '\0')
			snprintf(names[n], 300, "%.155s/%.100s", h + 345, h);
		else
			snprintf(names[n], 300, "%.100s", h);
		modes[n] = octal(h + 100, 7);
		size = octal(h + 124, 11);
		off += 512 + (size + 511) / 512 * 512;
		n++;
	}
	/* Two zero blocks end it, and nothing follows. */
	ATF_REQUIRE_EQ(off + 1024, bt->bt_len);
	return (n);
}

ATF_TC_WITHOUT_HEAD(tar_tree);
ATF_TC_BODY(tar_tree, tc)
{
	struct bootstrap_tar	 bt;
	char			 names[16][300], deep[256], path[1024];
	mode_t			 modes[16];
	size_t			 n;
	FILE			*fp;

	/* A path longer than 100 bytes goes in ustar's prefix. */
	snprintf(deep, sizeof(deep), "payload/%060d/%060d", 1, 2);
	ATF_REQUIRE(mkdir("d", 0755) == 0);
	ATF_REQUIRE(mkdir("d/payload", 0750) == 0);
	snprintf(path, sizeof(path), "d/payload/%060d", 1);
	ATF_REQUIRE(mkdir(path, 0711) == 0);
	snprintf(path, sizeof(path), "d/%s", deep);
	ATF_REQUIRE(mkdir(path, 0700) == 0);
	put("d/run.sh", "#!/bin/sh\necho hi\n", 0755);
	put("d/payload/b", "bee\n", 0640);
	put("d/payload/a", "", 0604);
	snprintf(path, sizeof(path), "d/%s/f", deep);
	put(path, "deep\n", 0600);

	ATF_REQUIRE(bootstrap_tar_make(&bt, "d") == 0);
	n = walk(&bt, names, modes, 16);
	ATF_REQUIRE_EQ(n, 7);
	ATF_CHECK_STREQ(names[0], "payload");
	ATF_CHECK_EQ(modes[0], 0750);
	ATF_CHECK_EQ(modes[1], 0711);
	ATF_CHECK_STREQ(names[2], deep);
	ATF_CHECK_EQ(modes[2], 0700);
	snprintf(path, sizeof(path), "%s/f", deep);
	ATF_CHECK_STREQ(names[3], path);
	ATF_CHECK_STREQ(names[4], "payload/a");
	ATF_CHECK_EQ(modes[4], 0604);
	ATF_CHECK_STREQ(names[5], "payload/b");
	ATF_CHECK_STREQ(names[6], "run.sh");
	ATF_CHECK_EQ(modes[6], 0755);
	ATF_CHECK_EQ(bt.bt_files, 4);
	ATF_CHECK_EQ(bt.bt_bytes, 18 + 4 + 0 + 5);

	/* tar(1) reads it back byte for byte. */
	ATF_REQUIRE((fp = fopen("b.tar", "w")) != NULL);
	ATF_REQUIRE(fwrite(bt.bt_buf, 1, bt.bt_len, fp) == bt.bt_len);
	ATF_REQUIRE(fclose(fp) == 0);
	ATF_REQUIRE(mkdir("x", 0700) == 0);
	ATF_REQUIRE(system("tar -x -f b.tar -C x") == 0);
	snprintf(path, sizeof(path), "cmp -s d/%s/f x/%s/f && "
	    "cmp -s d/run.sh x/run.sh && test -x x/run.sh", deep, deep);
	ATF_CHECK(system(path) == 0);
	bootstrap_tar_free(&bt);
}

ATF_TC_WITHOUT_HEAD(tar_refuses);
ATF_TC_BODY(tar_refuses, tc)
{
	struct bootstrap_tar	 bt;
	char			 name[160];

	/* A symbolic link could point anywhere on the host. */
	ATF_REQUIRE(mkdir("s", 0755) == 0);
	put("s/run.sh", "true\n", 0755);
	ATF_REQUIRE(symlink("/etc/passwd", "s/link") == 0);
	ATF_CHECK(bootstrap_tar_make(&bt, "s") == -1);
	ATF_CHECK_EQ(errno, EOPNOTSUPP);
	ATF_CHECK_STREQ(bt.bt_failed, "link");
	bootstrap_tar_free(&bt);

	ATF_REQUIRE(mkdir("f", 0755) == 0);
	ATF_REQUIRE(mkdir("f/sub", 0755) == 0);
	ATF_REQUIRE(mkfifo("f/sub/fifo", 0600) == 0);
	ATF_CHECK(bootstrap_tar_make(&bt, "f") == -1);
	ATF_CHECK_EQ(errno, EOPNOTSUPP);
	ATF_CHECK_STREQ(bt.bt_failed, "sub/fifo");
	bootstrap_tar_free(&bt);

	/* A last component of more than 100 bytes cannot be written. */
	ATF_REQUIRE(mkdir("l", 0755) == 0);
	snprintf(name, sizeof(name), "l/%0101d", 1);
	put(name, "x", 0644);
	ATF_CHECK(bootstrap_tar_make(&bt, "l") == -1);
	ATF_CHECK_EQ(errno, ENAMETOOLONG);
	bootstrap_tar_free(&bt);

	ATF_CHECK(bootstrap_tar_make(&bt, "missing") == -1);
	ATF_CHECK_EQ(errno, ENOENT);
	bootstrap_tar_free(&bt);
}

static void
feed(struct bootstrap_out *bo, const char *s)
{
	bootstrap_out_feed(bo, s, strlen(s));
}

ATF_TC_WITHOUT_HEAD(output_hostile);
ATF_TC_BODY(output_hostile, tc)
{
	struct bootstrap_out	 bo;
	char			 tail[BOOTSTRAP_TAIL_MAX], big[10000];
	int			 i;

	/* Escapes and other control bytes never reach the terminal. */
	bootstrap_out_reset(&bo);
	feed(&bo, "ok\n\033]0;owned\007\033[2Jclear\r\n");
	bootstrap_out_tail(&bo, tail, sizeof(tail));
	ATF_CHECK_STREQ(tail, "ok\n?]0;owned??[2Jclear");

	/* Only the last lines, however many came. */
	bootstrap_out_reset(&bo);
	for (i = 0; i < 1000; i++) {
		snprintf(big, sizeof(big), "line %d\n", i);
		feed(&bo, big);
	}
	bootstrap_out_tail(&bo, tail, sizeof(tail));
	ATF_CHECK(strncmp(tail, "line 990\n", 9) == 0);
	ATF_CHECK(strcmp(tail + strlen(tail) - 8, "line 999") == 0);

	/* One huge line: its end is kept, bounded. */
	bootstrap_out_reset(&bo);
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	feed(&bo, big);
	feed(&bo, "END");
	bootstrap_out_tail(&bo, tail, sizeof(tail));
	ATF_CHECK(strlen(tail) == BOOTSTRAP_TAIL_MAX - 1);
	ATF_CHECK(strcmp(tail + strlen(tail) - 3, "END") == 0);
	ATF_CHECK(!bo.bo_noop);
}

ATF_TC_WITHOUT_HEAD(output_noop);
ATF_TC_BODY(output_noop, tc)
{
	struct bootstrap_out	 bo;

	/* Split over reads, with CRLF. */
	bootstrap_out_reset(&bo);
	feed(&bo, "x\nCastra:n");
	feed(&bo, "oop\r");
	ATF_CHECK(!bo.bo_noop);
	feed(&bo, "\n");
	ATF_CHECK(bo.bo_noop);

	/* Not inside a longer line, not without its end of line. */
	bootstrap_out_reset(&bo);
	feed(&bo, "echo Castra:noop\nCastra:noop!\n Castra:noop\n");
	feed(&bo, "Castra:noop");
	ATF_CHECK(!bo.bo_noop);
}

ATF_TC_WITHOUT_HEAD(reply_parse);
ATF_TC_BODY(reply_parse, tc)
{
	struct bootstrap_reply	 br;
	char			 tail[256];
	const char		*ok = "{\"type\":\"message\",\"vm\":\"web\","
	    "\"payload\":{\"step\":\"apply\",\"status\":\"failed\","
	    "\"output_tail\":\"a\\nb\\u001b[31m\\n\",\"detail\":\"bad\"}}";
	const char		*bad[] = {
		"", "[]", "{", "{\"vm\":\"web\"}",
		/* Another VM may not answer for this one. */
		"{\"vm\":\"db\",\"payload\":{\"step\":\"apply\","
		    "\"status\":\"success\"}}",
		"{\"vm\":\"web\",\"payload\":{\"step\":\"verify\","
		    "\"status\":\"success\"}}",
		"{\"vm\":\"web\",\"payload\":{\"step\":\"apply\","
		    "\"status\":\"great\"}}",
		"{\"vm\":7,\"payload\":{\"step\":\"apply\","
		    "\"status\":\"success\"}}",
		"{\"vm\":\"web\",\"payload\":[\"apply\"]}",
	};
	size_t			 i;

	ATF_REQUIRE(bootstrap_reply_parse(ok, strlen(ok), "web", "apply",
	    &br) == 0);
	ATF_CHECK_EQ(br.br_status, CASTRA_STEP_FAILED);
	bootstrap_out_tail(&br.br_out, tail, sizeof(tail));
	ATF_CHECK_STREQ(tail, "a\nb?[31m");
	bootstrap_out_tail(&br.br_detail, tail, sizeof(tail));
	ATF_CHECK_STREQ(tail, "bad");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ATF_CHECK_MSG(bootstrap_reply_parse(bad[i], strlen(bad[i]),
		    "web", "apply", &br) == -1, "accepted %s", bad[i]);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, tar_tree);
	ATF_TP_ADD_TC(tp, tar_refuses);
	ATF_TP_ADD_TC(tp, output_hostile);
	ATF_TP_ADD_TC(tp, output_noop);
	ATF_TP_ADD_TC(tp, reply_parse);
	return (atf_no_error());
}
