/*
 * lib/beneath.c on real files: what a state root's owner may plant in
 * it (symbolic links at any component, hard links, FIFOs) is never
 * followed, opened or changed through, only replaced or refused.
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

#include "state.h"

/* ./root, the state root, and ./other, what links point at. */
static int
setup(void)
{
	FILE	*fp;
	int	 fd;

	ATF_REQUIRE_EQ(mkdir("root", 0755), 0);
	ATF_REQUIRE_EQ(mkdir("root/logs", 0755), 0);
	ATF_REQUIRE_EQ(mkdir("other", 0755), 0);
	ATF_REQUIRE((fp = fopen("other/victim", "w")) != NULL);
	fputs("victim\n", fp);
	ATF_REQUIRE_EQ(fclose(fp), 0);
	ATF_REQUIRE((fd = open("root", O_RDONLY | O_DIRECTORY)) != -1);
	return (fd);
}

/* other/victim is as setup made it, under its one name or two. */
static void
check_victim(nlink_t links)
{
	struct stat	 st;
	char		 buf[64];
	FILE		*fp;

	ATF_REQUIRE((fp = fopen("other/victim", "r")) != NULL);
	ATF_CHECK(fgets(buf, sizeof(buf), fp) != NULL);
	ATF_CHECK_STREQ(buf, "victim\n");
	ATF_CHECK(fgets(buf, sizeof(buf), fp) == NULL);
	fclose(fp);
	ATF_REQUIRE_EQ(stat("other/victim", &st), 0);
	ATF_CHECK_EQ(st.st_nlink, links);
}

ATF_TC_WITHOUT_HEAD(symlinks);
ATF_TC_BODY(symlinks, tc)
{
	char	 cwd[1024], path[1100];
	int	 root, fd;

	root = setup();
	ATF_REQUIRE(getcwd(cwd, sizeof(cwd)) != NULL);
	snprintf(path, sizeof(path), "%s/other/victim", cwd);

	/* A link as the last component, relative or absolute. */
	ATF_REQUIRE_EQ(symlink("../../other/victim", "root/logs/a.log"), 0);
	ATF_REQUIRE_EQ(symlink(path, "root/logs/b.log"), 0);
	errno = 0;
	ATF_CHECK_EQ(beneath_open(root, "logs/a.log", O_WRONLY | O_APPEND |
	    O_CREAT, 0644), -1);
	ATF_CHECK_EQ(errno, ELOOP);
	ATF_CHECK_EQ(beneath_open(root, "logs/b.log", O_RDONLY, 0), -1);
	ATF_CHECK_EQ(errno, ELOOP);

	/* A directory swapped for a link to another one. */
	ATF_REQUIRE_EQ(symlink("../other", "root/run"), 0);
	ATF_CHECK_EQ(beneath_open(root, "run/victim", O_RDONLY, 0), -1);
	ATF_CHECK_EQ(errno, ELOOP);
	ATF_CHECK_EQ(beneath_create(root, "run/victim", O_WRONLY, 0644), -1);
	ATF_CHECK_EQ(errno, ELOOP);
	ATF_CHECK_EQ(beneath_unlink(root, "run/victim"), -1);
	ATF_CHECK_EQ(errno, ELOOP);
	ATF_CHECK_EQ(beneath_rename(root, "logs/a.log", "run/victim"), -1);
	ATF_CHECK_EQ(errno, ELOOP);
	ATF_CHECK_EQ(beneath_mkdir(root, "run/new", 0755), -1);
	ATF_CHECK_EQ(errno, ELOOP);
	ATF_CHECK(access("other/new", F_OK) == -1);

	/* Nothing leaves the root. */
	ATF_CHECK_EQ(beneath_open(root, "../other/victim", O_RDONLY, 0), -1);
	ATF_CHECK_EQ(errno, EXDEV);
	ATF_CHECK_EQ(beneath_open(root, path, O_RDONLY, 0), -1);
	ATF_CHECK_EQ(errno, EXDEV);

	/* A new file in place of a link: the link goes, not its target. */
	ATF_REQUIRE((fd = beneath_create(root, "logs/a.log", O_WRONLY,
	    0644)) != -1);
	close(fd);
	ATF_CHECK_EQ(beneath_unlink(root, "logs/b.log"), 0);
	ATF_CHECK(access("root/logs/b.log", F_OK) == -1);
	check_victim(1);
	close(root);
}

ATF_TC_WITHOUT_HEAD(hard_links);
ATF_TC_BODY(hard_links, tc)
{
	struct stat	 st;
	int		 root, fd;

	root = setup();
	ATF_REQUIRE_EQ(link("other/victim", "root/logs/a.log"), 0);
	ATF_REQUIRE_EQ(link("other/victim", "root/logs/a.log.1"), 0);
	ATF_CHECK_EQ(beneath_open(root, "logs/a.log", O_WRONLY | O_APPEND |
	    O_CREAT, 0644), -1);
	ATF_CHECK_EQ(errno, EMLINK);
	ATF_CHECK_EQ(beneath_open(root, "logs/a.log", O_RDONLY, 0), -1);
	ATF_CHECK_EQ(errno, EMLINK);

	/* Truncating would come before any check. */
	ATF_CHECK_EQ(beneath_open(root, "logs/a.log", O_WRONLY | O_TRUNC, 0),
	    -1);
	ATF_CHECK_EQ(errno, EINVAL);
	check_victim(3);

	/* A rename replaces the name; what it named keeps its bytes. */
	ATF_REQUIRE((fd = beneath_create(root, "logs/new", O_WRONLY, 0644)) !=
	    -1);
	ATF_REQUIRE_EQ(write(fd, "new\n", 4), 4);
	close(fd);
	ATF_CHECK_EQ(beneath_rename(root, "logs/new", "logs/a.log.1"), 0);
	check_victim(2);

	/* Made anew: one link, empty, and the victim as it was. */
	ATF_REQUIRE((fd = beneath_create(root, "logs/a.log", O_WRONLY |
	    O_APPEND, 0644)) != -1);
	ATF_REQUIRE_EQ(fstat(fd, &st), 0);
	ATF_CHECK_EQ(st.st_nlink, 1);
	ATF_CHECK_EQ(st.st_size, 0);
	ATF_CHECK_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	close(fd);
	check_victim(1);
	close(root);
}

ATF_TC_WITHOUT_HEAD(not_files);
ATF_TC_BODY(not_files, tc)
{
	struct stat	 st;
	int		 root, fd;

	root = setup();
	/* A FIFO would block an open for writing until someone reads. */
	ATF_REQUIRE_EQ(mkfifo("root/logs/a.log", 0666), 0);
	ATF_CHECK_EQ(beneath_open(root, "logs/a.log", O_WRONLY | O_APPEND |
	    O_CREAT, 0644), -1);
	ATF_CHECK_EQ(errno, ENXIO);
	ATF_CHECK_EQ(beneath_open(root, "logs/a.log", O_RDONLY, 0), -1);
	ATF_CHECK_EQ(errno, ENXIO);
	ATF_CHECK_EQ(beneath_open(root, "logs", O_RDONLY, 0), -1);
	ATF_CHECK_EQ(errno, ENXIO);

	/* A directory, or anything with O_PATH, is the caller's to check. */
	ATF_REQUIRE((fd = beneath_open(root, "logs", O_RDONLY | O_DIRECTORY,
	    0)) != -1);
	close(fd);
	ATF_REQUIRE_EQ(mkfifo("root/logs/b.log", 0666), 0);
	ATF_REQUIRE((fd = beneath_open(root, "logs/b.log", O_PATH, 0)) != -1);
	ATF_REQUIRE_EQ(fstat(fd, &st), 0);
	ATF_CHECK(S_ISFIFO(st.st_mode));
	close(fd);
	/* ...but never through a link, even then. */
	ATF_REQUIRE_EQ(symlink("../../other/victim", "root/logs/c.log"), 0);
	ATF_CHECK_EQ(beneath_open(root, "logs/c.log", O_PATH, 0), -1);
	ATF_CHECK_EQ(errno, ELOOP);

	ATF_CHECK_EQ(beneath_mkdir(root, "logs/bus", 0755), 0);
	ATF_CHECK_EQ(beneath_mkdir(root, "logs/bus", 0755), -1);
	ATF_CHECK_EQ(errno, EEXIST);
	check_victim(1);
	close(root);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, symlinks);
	ATF_TP_ADD_TC(tp, hard_links);
	ATF_TP_ADD_TC(tp, not_files);
	return (atf_no_error());
}
