/*
 * Units of the configuration library: expanding VMs into instances,
 * finding the project file through symbolic links, and the parser's
 * contract for errors, includes from memory and the printed form.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include "castra.h"
#include "config.h"

static struct config *
parse(const char *text)
{
	struct config	*cf;
	char		*errs = NULL;

	cf = config_parse_buffer("units.conf", text, strlen(text), NULL,
	    &errs);
	if (cf == NULL)
		atf_tc_fail("parse failed: %s", errs != NULL ? errs : "?");
	return (cf);
}

static void
write_file(const char *path, const char *text)
{
	FILE	*fp;

	ATF_REQUIRE((fp = fopen(path, "w")) != NULL);
	ATF_REQUIRE(fputs(text, fp) != EOF);
	ATF_REQUIRE(fclose(fp) == 0);
}

static char *
print(const struct config *cf)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp;

	ATF_REQUIRE((fp = open_memstream(&buf, &len)) != NULL);
	config_print(fp, cf);
	ATF_REQUIRE(fclose(fp) == 0);
	return (buf);
}

#define PROJECT	"project \"p\"\n" \
	"image \"castra-default\" { url \"file:///x\" }\n"

ATF_TC_WITHOUT_HEAD(instances_single);
ATF_TC_BODY(instances_single, tc)
{
	struct config	*cf;
	struct instance	*in;
	size_t		 n;

	cf = parse(PROJECT "vm \"solo\" { forward 2222 to 22 }\n");
	ATF_REQUIRE(config_instances(cf, &in, &n) == 0);
	ATF_REQUIRE_EQ(n, 1);
	ATF_CHECK_STREQ(in[0].in_name, "solo");
	ATF_CHECK_EQ(in[0].in_index, 0);
	ATF_CHECK(in[0].in_vm == TAILQ_FIRST(&cf->cf_vms));
	ATF_REQUIRE_EQ(in[0].in_nforwards, 1);
	ATF_CHECK_EQ(in[0].in_forwards[0].fw_host, 2222);
	ATF_CHECK_EQ(in[0].in_forwards[0].fw_guest, 22);
	ATF_CHECK_STREQ(in[0].in_forwards[0].fw_bind, "127.0.0.1");
	free(in);
	config_free(cf);
}

ATF_TC_WITHOUT_HEAD(instances_count);
ATF_TC_BODY(instances_count, tc)
{
	static const char *const names[] = {
		"first", "web-0", "web-1", "web-2", "last"
	};
	struct config	*cf;
	struct instance	*in;
	size_t		 i, n;

	cf = parse(PROJECT "vm \"first\" { }\n"
	    "vm \"web\" { count 3 forward 8080 to 80 forward udp 9000 to 90 }\n"
	    "vm \"last\" { depends \"web\" }\n");
	ATF_REQUIRE(config_instances(cf, &in, &n) == 0);
	ATF_REQUIRE_EQ(n, 5);
	for (i = 0; i < n; i++)
		ATF_CHECK_STREQ(in[i].in_name, names[i]);
	for (i = 1; i <= 3; i++) {
		ATF_CHECK_EQ(in[i].in_index, i - 1);
		ATF_CHECK_STREQ(in[i].in_vm->vm_name, "web");
		ATF_REQUIRE_EQ(in[i].in_nforwards, 2);
		ATF_CHECK_EQ(in[i].in_forwards[0].fw_host, 8080 + i - 1);
		ATF_CHECK_EQ(in[i].in_forwards[0].fw_guest, 80);
		ATF_CHECK_EQ(in[i].in_forwards[1].fw_proto, FORWARD_UDP);
		ATF_CHECK_EQ(in[i].in_forwards[1].fw_host, 9000 + i - 1);
	}
	/* The declaration keeps the ports of instance 0. */
	ATF_CHECK_EQ(in[3].in_vm->vm_forwards[0].fw_host, 8080);
	ATF_CHECK_EQ(in[4].in_nforwards, 0);
	free(in);
	config_free(cf);
}

ATF_TC_WITHOUT_HEAD(find_through_symlink);
ATF_TC_BODY(find_through_symlink, tc)
{
	struct config	*cf;
	char		 real[PATH_MAX], expect[PATH_MAX + 32], found[PATH_MAX];
	char		*errs = NULL;

	ATF_REQUIRE(mkdir("real", 0755) == 0);
	ATF_REQUIRE(mkdir("real/sub", 0755) == 0);
	ATF_REQUIRE(mkdir("real/sub/deeper", 0755) == 0);
	write_file("real/castra.conf", PROJECT "vm \"v\" { disk \"d.img\" }\n");
	ATF_REQUIRE(symlink("real", "link") == 0);
	ATF_REQUIRE(realpath("real", real) != NULL);
	snprintf(expect, sizeof(expect), "%s/castra.conf", real);

	ATF_REQUIRE(chdir("link/sub/deeper") == 0);
	ATF_REQUIRE(config_find(found, sizeof(found)) == 0);
	ATF_CHECK_STREQ(found, expect);
	ATF_CHECK(strstr(found, "/link/") == NULL);

	/* Too small a buffer is an error, not a truncated path. */
	ATF_CHECK(config_find(found, 8) == -1);
	ATF_CHECK_EQ(errno, ENAMETOOLONG);

	/* A parse through the link has canonical paths too. */
	cf = config_parse_file("../../castra.conf", NULL, &errs);
	ATF_REQUIRE_MSG(cf != NULL, "%s", errs != NULL ? errs : "?");
	ATF_CHECK_STREQ(cf->cf_path, expect);
	ATF_CHECK_STREQ(cf->cf_dir, real);
	snprintf(expect, sizeof(expect), "%s/d.img", real);
	ATF_CHECK_STREQ(TAILQ_FIRST(&cf->cf_vms)->vm_disk, expect);
	config_free(cf);

	/* And so has the search that config_parse_file does itself. */
	cf = config_parse_file(NULL, NULL, &errs);
	ATF_REQUIRE_MSG(cf != NULL, "%s", errs != NULL ? errs : "?");
	ATF_CHECK_STREQ(cf->cf_dir, real);
	config_free(cf);
}

ATF_TC_WITHOUT_HEAD(missing_file);
ATF_TC_BODY(missing_file, tc)
{
	char	*errs = NULL;

	ATF_CHECK(config_parse_file("nosuch.conf", NULL, &errs) == NULL);
	ATF_CHECK_EQ(errno, ENOENT);
	ATF_REQUIRE(errs != NULL);
	ATF_CHECK_STREQ(errs, "nosuch.conf: No such file or directory\n");
	free(errs);
}

ATF_TC_WITHOUT_HEAD(all_errors);
ATF_TC_BODY(all_errors, tc)
{
	static const char text[] =
	    "project \"p\"\n"
	    "vm \"a\" { cpus 0 }\n"
	    "junk\n"
	    "vm \"b\" {\n"
	    "\tmemory 8M\n"
	    "}\n"
	    "include \"other.conf\"\n";
	char	*errs = NULL;

	ATF_CHECK(config_parse_buffer("mem.conf", text, sizeof(text) - 1,
	    NULL, &errs) == NULL);
	ATF_CHECK_EQ(errno, EINVAL);
	ATF_REQUIRE(errs != NULL);
	ATF_CHECK_STREQ(errs,
	    "mem.conf:2: cpus must be between 1 and 64\n"
	    "mem.conf:3: syntax error at the end of the line\n"
	    "mem.conf:5: memory must be between 16M and 1T\n"
	    "mem.conf:7: include \"other.conf\": not possible in a "
	    "configuration read from memory\n"
	    "mem.conf:2: vm \"a\" has no image or disk, and no image "
	    "\"castra-default\" is defined\n"
	    "mem.conf:4: vm \"b\" has no image or disk, and no image "
	    "\"castra-default\" is defined\n");
	free(errs);
}

ATF_TC_WITHOUT_HEAD(defines_win);
ATF_TC_BODY(defines_win, tc)
{
	static char *const defs[] = { "n=3", "name=from-cmdline", NULL };
	static const char text[] = PROJECT
	    "n = \"2\"\nvm $name { count $n }\n";
	struct config	*cf;
	char		*errs = NULL;

	cf = config_parse_buffer("d.conf", text, sizeof(text) - 1, defs,
	    &errs);
	ATF_REQUIRE_MSG(cf != NULL, "%s", errs != NULL ? errs : "?");
	ATF_CHECK_STREQ(TAILQ_FIRST(&cf->cf_vms)->vm_name, "from-cmdline");
	ATF_CHECK_EQ(TAILQ_FIRST(&cf->cf_vms)->vm_count, 3);
	config_free(cf);
}

ATF_TC_WITHOUT_HEAD(print_round_trip);
ATF_TC_BODY(print_round_trip, tc)
{
	struct config	*cf, *again;
	char		*first, *second, *errs = NULL;

	cf = parse(PROJECT "state \"s\"\nwait sigkill 1m\n"
	    "vm \"a\" { memory 2G bootstrap skip verify \"a \\\"b\\\\\"\n"
	    "env \"X\" \"tab\there\" }\n");
	first = print(cf);
	again = config_parse_buffer("again.conf", first, strlen(first), NULL,
	    &errs);
	ATF_REQUIRE_MSG(again != NULL, "%s", errs != NULL ? errs : "?");
	second = print(again);
	ATF_CHECK_STREQ(first, second);
	ATF_CHECK_STREQ(TAILQ_FIRST(&again->cf_vms)->vm_verify, "a \"b\\");
	ATF_CHECK_EQ(again->cf_wait_sigkill, 60);
	ATF_CHECK_EQ(TAILQ_FIRST(&again->cf_vms)->vm_memory_mib, 2048);
	free(first);
	free(second);
	config_free(cf);
	config_free(again);
}

ATF_TC_WITHOUT_HEAD(empty_input);
ATF_TC_BODY(empty_input, tc)
{
	char	*errs = NULL;

	ATF_CHECK(config_parse_buffer("e.conf", "", 0, NULL, &errs) == NULL);
	ATF_CHECK_EQ(errno, EINVAL);
	ATF_REQUIRE(errs != NULL);
	ATF_CHECK_STREQ(errs, "e.conf:1: no project name: add project "
	    "\"name\"\n");
	free(errs);
}

static size_t
count_lines(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++)
		if (*s == '\n')
			n++;
	return (n);
}

ATF_TC_WITHOUT_HEAD(hostile_bytes);
ATF_TC_BODY(hostile_bytes, tc)
{
	static const char nul[] = "project \"p\"\nvm \"a\" {\0}\ncpus 1\n";
	char	*buf, *errs = NULL;
	size_t	 i, n;

	/* A NUL byte is refused, and parsing goes on after it. */
	ATF_CHECK(config_parse_buffer("nul.conf", nul, sizeof(nul) - 1,
	    NULL, &errs) == NULL);
	ATF_REQUIRE(errs != NULL);
	ATF_CHECK(strstr(errs, "nul.conf:2: unexpected character 0x00\n") !=
	    NULL);
	ATF_CHECK(strstr(errs, "nul.conf:3: syntax error at cpus\n") != NULL);
	free(errs);

	/* Over-long strings and words are errors, not overflows. */
	n = 20000;
	ATF_REQUIRE((buf = malloc(n + 64)) != NULL);
	strlcpy(buf, "project \"", n + 64);
	for (i = strlen(buf); i < n; i++)
		buf[i] = 'x';
	strlcpy(buf + n, "\"\nproject ", 64);
	memset(buf + n + 10, 'y', 30);
	strlcpy(buf + n + 40, "\n", 24);
	errs = NULL;
	ATF_CHECK(config_parse_buffer("long.conf", buf, strlen(buf), NULL,
	    &errs) == NULL);
	ATF_REQUIRE(errs != NULL);
	ATF_CHECK(strstr(errs, "long.conf:1: string too long\n") != NULL);
	free(errs);
	memset(buf, 'w', n);
	strlcpy(buf + n, "\nproject \"p\"\n", 64);
	errs = NULL;
	ATF_CHECK(config_parse_buffer("word.conf", buf, strlen(buf), NULL,
	    &errs) == NULL);
	ATF_REQUIRE(errs != NULL);
	ATF_CHECK_STREQ(errs, "word.conf:1: word too long\n");
	free(errs);

	/* Thousands of errors stop at a bound. */
	for (i = 0; i < n - 1; i += 2) {
		buf[i] = '}';
		buf[i + 1] = '\n';
	}
	buf[i] = '\0';
	errs = NULL;
	ATF_CHECK(config_parse_buffer("many.conf", buf, strlen(buf), NULL,
	    &errs) == NULL);
	ATF_REQUIRE(errs != NULL);
	ATF_CHECK_EQ(count_lines(errs), 1000);
	ATF_CHECK(strstr(errs, "many.conf:1000: too many errors\n") != NULL);
	free(errs);
	free(buf);
}

/* libcastra's castra_check(), which castra check is built on. */
ATF_TC_WITHOUT_HEAD(library_check);
ATF_TC_BODY(library_check, tc)
{
	struct castra_open_options	 oo;
	struct castra_error		 ce;
	char				*text, *text2, *errors;
	char *const			 defs[] = { "mem=512M", NULL };

	memset(&oo, 0, sizeof(oo));
	write_file("good.conf", PROJECT "vm \"v\" {\n\tdisk \"d.img\"\n"
	    "\tmemory $mem\n}\n");
	oo.oo_config = "good.conf";
	oo.oo_defines = defs;
	ATF_REQUIRE(castra_check(&oo, &text, &errors, &ce) == 0);
	ATF_CHECK(errors == NULL);
	ATF_CHECK(strstr(text, "project \"p\"\n") == text);
	ATF_CHECK_MSG(strstr(text, "\tmemory 512M\n") != NULL, "%s", text);
	ATF_CHECK(strstr(text, "$mem") == NULL);
	/* What it prints parses again, to the same text. */
	write_file("again.conf", text);
	oo.oo_config = "again.conf";
	oo.oo_defines = NULL;
	ATF_REQUIRE(castra_check(&oo, &text2, &errors, &ce) == 0);
	ATF_CHECK_STREQ(text, text2);
	free(text2);
	free(text);

	/* Every error, not just the first; ce names the first. */
	write_file("bad.conf", PROJECT "vm \"v\" {\n\tcpus 0\n"
	    "\tmemory 0M\n}\n");
	oo.oo_config = "bad.conf";
	ATF_CHECK(castra_check(&oo, &text, &errors, &ce) == -1);
	ATF_CHECK(text == NULL);
	ATF_CHECK_EQ(ce.ce_code, 65);
	ATF_REQUIRE(errors != NULL);
	ATF_CHECK_EQ(count_lines(errors), 2);
	ATF_CHECK_MSG(strncmp(errors, "bad.conf:4: ", 12) == 0, "%s", errors);
	ATF_CHECK(strstr(errors, "\nbad.conf:5: ") != NULL);
	ATF_CHECK(strncmp(ce.ce_message, "bad.conf:4: ", 12) == 0);
	ATF_CHECK(strchr(ce.ce_message, '\n') == NULL);
	free(errors);

	oo.oo_config = "nosuch.conf";
	ATF_CHECK(castra_check(&oo, &text, &errors, &ce) == -1);
	ATF_CHECK_EQ(ce.ce_code, 66);
	ATF_CHECK(text == NULL);
	free(errors);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, library_check);
	ATF_TP_ADD_TC(tp, instances_single);
	ATF_TP_ADD_TC(tp, instances_count);
	ATF_TP_ADD_TC(tp, find_through_symlink);
	ATF_TP_ADD_TC(tp, missing_file);
	ATF_TP_ADD_TC(tp, all_errors);
	ATF_TP_ADD_TC(tp, defines_win);
	ATF_TP_ADD_TC(tp, print_round_trip);
	ATF_TP_ADD_TC(tp, empty_input);
	ATF_TP_ADD_TC(tp, hostile_bytes);
	return (atf_no_error());
}
