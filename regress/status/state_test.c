/*
 * Unit tests of lib/state.c: the /proc stat parser against hostile
 * command names, handshake freshness at its bound, the record reader's
 * limits, the atomic writer, and the project id.
 */

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include "config.h"
#include "state.h"

static int
parse(const char *text, char *state, uint64_t *start)
{
	return (proc_stat_parse(text, strlen(text), state, start));
}

/* Fields 3 to 21 after the name, then the start time and the rest. */
#define STAT_MID	"S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18"

ATF_TC_WITHOUT_HEAD(stat_parse);
ATF_TC_BODY(stat_parse, tc)
{
	uint64_t	 start;
	char		 state;

	ATF_REQUIRE_EQ(parse("42 (qemu) " STAT_MID " 987654 1 2 3\n",
	    &state, &start), 0);
	ATF_CHECK_EQ(state, 'S');
	ATF_CHECK_EQ(start, 987654);
	/* A name that holds spaces, parentheses and digits. */
	ATF_REQUIRE_EQ(parse("42 (a) 1 2 (x) ) " STAT_MID " 555 1\n",
	    &state, &start), 0);
	ATF_CHECK_EQ(start, 555);
	ATF_REQUIRE_EQ(parse("42 ()) ) ) " STAT_MID " 7", &state,
	    &start), 0);
	ATF_CHECK_EQ(start, 7);
}

ATF_TC_WITHOUT_HEAD(stat_parse_hostile);
ATF_TC_BODY(stat_parse_hostile, tc)
{
	static const char *const bad[] = {
		"",
		"42 qemu S 1",
		"42 (qemu)",
		"42 (qemu) ",
		"42 (qemu) S 1 2 3",
		"42 (qemu)S " "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 9",
		"42 (qemu) " STAT_MID " ",
		"42 (qemu) " STAT_MID " x1",
		"42 (qemu) " STAT_MID " 12x",
		"42 (qemu) " STAT_MID " 99999999999999999999999",
		"42 (qemu) " STAT_MID " -5",
	};
	uint64_t	 start;
	size_t		 i;
	char		 state;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ATF_CHECK_MSG(parse(bad[i], &state, &start) == -1,
		    "accepted: \"%s\"", bad[i]);
	/* Not terminated: the length bounds the parse. */
	ATF_CHECK_EQ(proc_stat_parse("42 (q) " STAT_MID " 12", 10, &state,
	    &start), -1);
}

ATF_TC_WITHOUT_HEAD(starttime);
ATF_TC_BODY(starttime, tc)
{
	uint64_t	 start;
	pid_t		 pid;
	int		 status;

	start = proc_starttime(getpid());
	ATF_REQUIRE(start != 0);
	ATF_CHECK(state_pid_matches(getpid(), start));
	ATF_CHECK(!state_pid_matches(getpid(), start + 1));
	ATF_CHECK(!state_pid_matches(0, start));
	ATF_CHECK(!state_pid_matches(getpid(), 0));

	/* An exited child that is not reaped yet is not running. */
	if ((pid = fork()) == 0)
		_exit(0);
	ATF_REQUIRE(pid > 0);
	while ((start = proc_starttime(pid)) == 0)
		;
	/* Wait, boundedly, for the child to become a zombie. */
	for (status = 0; status < 5000 && state_pid_matches(pid, start);
	    status++)
		usleep(1000);
	ATF_CHECK(!state_pid_matches(pid, start));
	waitpid(pid, &status, 0);
	ATF_CHECK_EQ(proc_starttime(pid), 0);
}

ATF_TC_WITHOUT_HEAD(freshness);
ATF_TC_BODY(freshness, tc)
{
	const int64_t	 now = 1700000000000LL;

	ATF_CHECK_EQ(state_age_ms(now - 3012, now), 3012);
	ATF_CHECK(state_fresh(state_age_ms(now, now)));
	ATF_CHECK(state_fresh(state_age_ms(now - 45000, now)));
	ATF_CHECK(!state_fresh(state_age_ms(now - 45001, now)));
	ATF_CHECK(!state_fresh(state_age_ms(now - 46000, now)));
	/* From the future: no age, not fresh. */
	ATF_CHECK_EQ(state_age_ms(now + 1, now), -1);
	ATF_CHECK(!state_fresh(state_age_ms(now + 1, now)));
}

static void
write_file(const char *path, const char *text)
{
	FILE	*fp;

	ATF_REQUIRE((fp = fopen(path, "w")) != NULL);
	fputs(text, fp);
	ATF_REQUIRE(fclose(fp) == 0);
}

ATF_TC_WITHOUT_HEAD(read_json);
ATF_TC_BODY(read_json, tc)
{
	json_t	*obj;
	char	 err[256];
	int	 fd, dirfd;

	ATF_REQUIRE((dirfd = open(".", O_RDONLY | O_DIRECTORY)) != -1);
	write_file("good.json", "{\"pid\":12,\"state\":\"running\"}\n");
	ATF_REQUIRE_EQ(state_read_json_err(dirfd, "good.json", &obj, err,
	    sizeof(err)), 0);
	ATF_CHECK_EQ(json_integer_value(json_object_get(obj, "pid")), 12);
	json_decref(obj);

	ATF_CHECK_EQ(state_read_json_err(dirfd, "none.json", &obj, err,
	    sizeof(err)), -1);
	ATF_CHECK_EQ(errno, ENOENT);

	write_file("cut.json", "{\"pid\":");
	ATF_CHECK_EQ(state_read_json_err(dirfd, "cut.json", &obj, err,
	    sizeof(err)), -1);
	ATF_CHECK_EQ(errno, EBADMSG);
	ATF_CHECK(strstr(err, "line 1") != NULL);

	write_file("array.json", "[1]");
	ATF_CHECK_EQ(state_read_json_err(dirfd, "array.json", &obj, err,
	    sizeof(err)), -1);
	ATF_CHECK_EQ(errno, EBADMSG);

	write_file("dup.json", "{\"pid\":1,\"pid\":2}");
	ATF_CHECK_EQ(state_read_json_err(dirfd, "dup.json", &obj, err,
	    sizeof(err)), -1);

	/* Larger than the cap, sparse so that it costs nothing. */
	ATF_REQUIRE((fd = open("big.json", O_WRONLY | O_CREAT, 0644)) != -1);
	ATF_REQUIRE(ftruncate(fd, (off_t)1 << 30) == 0);
	close(fd);
	ATF_CHECK_EQ(state_read_json_err(dirfd, "big.json", &obj, err,
	    sizeof(err)), -1);
	ATF_CHECK_EQ(errno, EFBIG);

	ATF_REQUIRE(symlink("good.json", "link.json") == 0);
	ATF_CHECK_EQ(state_read_json_err(dirfd, "link.json", &obj, err,
	    sizeof(err)), -1);
	ATF_CHECK_EQ(errno, ELOOP);

	ATF_REQUIRE(mkfifo("fifo.json", 0600) == 0);
	ATF_CHECK_EQ(state_read_json_err(dirfd, "fifo.json", &obj, err,
	    sizeof(err)), -1);
	ATF_CHECK_EQ(errno, EBADMSG);
	close(dirfd);
}

ATF_TC_WITHOUT_HEAD(write_json);
ATF_TC_BODY(write_json, tc)
{
	struct stat	 sb;
	json_t		*obj, *back;
	int		 dirfd;

	ATF_REQUIRE(state_mkdirs("sr/deep") == 0);
	ATF_REQUIRE(stat("sr/deep/logs/bus", &sb) == 0 &&
	    S_ISDIR(sb.st_mode));
	ATF_REQUIRE(stat("sr/deep/handshakes", &sb) == 0);
	ATF_CHECK_EQ(sb.st_mode & 0777, 0700);
	ATF_REQUIRE((dirfd = open("sr/deep", O_RDONLY | O_DIRECTORY)) != -1);
	obj = json_pack("{s:s, s:i}", "name", "web", "pid", 901);
	ATF_REQUIRE(state_write_json(dirfd, "vms/web.json", obj, 0600) == 0);
	ATF_REQUIRE(state_read_json(dirfd, "vms/web.json", &back) == 0);
	ATF_CHECK(json_equal(obj, back));
	json_decref(back);
	ATF_REQUIRE(stat("sr/deep/vms/web.json", &sb) == 0);
	ATF_CHECK_EQ(sb.st_mode & 0777, 0600);
	/* Replaced whole, and no temporary file is left. */
	json_object_set_new(obj, "pid", json_integer(902));
	ATF_REQUIRE(state_write_json(dirfd, "vms/web.json", obj, 0600) == 0);
	ATF_REQUIRE(state_read_json(dirfd, "vms/web.json", &back) == 0);
	ATF_CHECK_EQ(json_integer_value(json_object_get(back, "pid")), 902);
	json_decref(back);
	json_decref(obj);
	ATF_CHECK(system("test \"$(ls sr/deep/vms)\" = web.json") == 0);
	/* Into a directory that is not there: an error, nothing made. */
	obj = json_object();
	ATF_CHECK_EQ(state_write_json(dirfd, "nodir/x.json", obj, 0600), -1);
	json_decref(obj);
	close(dirfd);
}

ATF_TC_WITHOUT_HEAD(project_id);
ATF_TC_BODY(project_id, tc)
{
	struct config	 cfg;
	char		 id[STATE_ID_MAX], root[PATH_MAX];

	memset(&cfg, 0, sizeof(cfg));
	cfg.cf_dir = "/home/u/Dev Box";
	cfg.cf_project = "My_Dev.Box";
	ATF_REQUIRE(state_project_id(&cfg, id, sizeof(id)) == 0);
	ATF_CHECK_MATCH("^my-dev-box-[0-9a-f]{16}$", id);
	cfg.cf_project = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF";
	ATF_REQUIRE(state_project_id(&cfg, id, sizeof(id)) == 0);
	ATF_CHECK_MATCH("^abcdefghijklmnopqrstuvwxyz012345-[0-9a-f]{16}$",
	    id);
	/* The hash is the directory's: another directory, another id. */
	cfg.cf_project = "p";
	ATF_REQUIRE(state_project_id(&cfg, id, sizeof(id)) == 0);
	ATF_CHECK_STREQ(id, "p-27a218f2f477eb39");

	ATF_REQUIRE(setenv("CASTRA_HOME", "/var/tmp/ch", 1) == 0);
	ATF_REQUIRE(state_root(&cfg, root, sizeof(root)) == 0);
	ATF_CHECK_STREQ(root, "/var/tmp/ch/projects/p-27a218f2f477eb39");
	cfg.cf_statedir = "state";
	ATF_REQUIRE(state_root(&cfg, root, sizeof(root)) == 0);
	ATF_CHECK_STREQ(root, "/home/u/Dev Box/state");
	cfg.cf_statedir = "/srv/st";
	ATF_REQUIRE(state_root(&cfg, root, sizeof(root)) == 0);
	ATF_CHECK_STREQ(root, "/srv/st");
	ATF_CHECK_EQ(state_root(&cfg, root, 4), -1);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, stat_parse);
	ATF_TP_ADD_TC(tp, stat_parse_hostile);
	ATF_TP_ADD_TC(tp, starttime);
	ATF_TP_ADD_TC(tp, freshness);
	ATF_TP_ADD_TC(tp, read_json);
	ATF_TP_ADD_TC(tp, write_json);
	ATF_TP_ADD_TC(tp, project_id);
	return (atf_no_error());
}
