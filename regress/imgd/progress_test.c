/*
 * The download progress that castra shows while up or image pull waits:
 * a bar on a terminal (a real pseudo-terminal here), plain lines on
 * anything else, and each event as JSON for programs that embed
 * libcastra.
 */

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atf-c.h>

#include "castra.h"

#define URL	"http://127.0.0.1:1/images/a.img"

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Let the monotonic clock move on by ms, so that a rate exists. */
static void
pass_ms(int ms)
{
	int64_t	 until = now_ms() + ms;

	while (now_ms() < until)
		poll(NULL, 0, 5);
}

static struct castra_event
progress(uint64_t done, uint64_t total)
{
	struct castra_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.ev_type = CASTRA_EV_IMAGE_PROGRESS;
	ev.ev_vm = "";
	ev.ev_text = URL;
	ev.ev_done = done;
	ev.ev_total = total;
	return (ev);
}

/* Everything readable on fd now, as a string. */
static char *
drain(int fd, char *buf, size_t len)
{
	size_t	 off = 0;
	ssize_t	 n;

	while (off < len - 1) {
		n = read(fd, buf + off, len - 1 - off);
		if (n <= 0)
			break;
		off += n;
	}
	buf[off] = '\0';
	return (buf);
}

/* The width of the first bar in s, between its brackets. */
static int
bar_width(const char *s)
{
	const char	*open, *close;

	if ((open = strchr(s, '[')) == NULL ||
	    (close = strchr(open, ']')) == NULL)
		return (-1);
	return ((int)(close - open - 1));
}

ATF_TC_WITHOUT_HEAD(plain_lines);
ATF_TC_BODY(plain_lines, tc)
{
	struct castra_progress	*cp;
	struct castra_event	 ev;
	char			 buf[4096];
	int			 p[2];

	ATF_REQUIRE(pipe2(p, O_NONBLOCK) == 0);
	ATF_REQUIRE((cp = castra_progress_new(p[1])) != NULL);
	ev = progress(0, 4 * 1024 * 1024);
	castra_progress_event(cp, &ev);
	ATF_CHECK_STREQ(drain(p[0], buf, sizeof(buf)), "");
	pass_ms(50);
	ev = progress(1024 * 1024, 4 * 1024 * 1024);
	castra_progress_event(cp, &ev);
	drain(p[0], buf, sizeof(buf));
	ATF_CHECK_MSG(strncmp(buf, URL ": 1.0 MiB of 4.0 MiB (25%), ",
	    strlen(URL) + 28) == 0, "%s", buf);
	ATF_CHECK_MSG(strstr(buf, "/s, ") != NULL, "no rate: %s", buf);
	ATF_CHECK_MSG(strstr(buf, " left\n") != NULL, "no time left: %s",
	    buf);
	ATF_CHECK_MSG(strchr(buf, '\r') == NULL, "a bar on a pipe: %s", buf);
	/* Within the same quarter: nothing more to say. */
	ev = progress(1024 * 1024 + 1, 4 * 1024 * 1024);
	castra_progress_event(cp, &ev);
	ATF_CHECK_STREQ(drain(p[0], buf, sizeof(buf)), "");
	ev = progress(4 * 1024 * 1024, 4 * 1024 * 1024);
	castra_progress_event(cp, &ev);
	drain(p[0], buf, sizeof(buf));
	ATF_CHECK_MSG(strstr(buf, "4.0 MiB of 4.0 MiB (100%)") != NULL &&
	    strstr(buf, "left") == NULL, "%s", buf);
	castra_progress_free(cp);
	ATF_CHECK_STREQ(drain(p[0], buf, sizeof(buf)), "");
	close(p[0]);
	close(p[1]);
}

ATF_TC_WITHOUT_HEAD(terminal_bar);
ATF_TC_BODY(terminal_bar, tc)
{
	struct castra_progress	*cp;
	struct castra_event	 ev;
	char			 buf[4096], *name;
	int			 master, slave;

	if ((master = posix_openpt(O_RDWR | O_NOCTTY)) == -1)
		atf_tc_skip("no pseudo-terminal: %s", strerror(errno));
	ATF_REQUIRE(grantpt(master) == 0 && unlockpt(master) == 0);
	ATF_REQUIRE((name = ptsname(master)) != NULL);
	ATF_REQUIRE((slave = open(name, O_RDWR | O_NOCTTY)) != -1);
	ATF_REQUIRE(fcntl(master, F_SETFL, O_NONBLOCK) == 0);

	ATF_REQUIRE((cp = castra_progress_new(slave)) != NULL);
	ev = progress(0, 8 * 1024 * 1024);
	castra_progress_event(cp, &ev);
	pass_ms(150);
	ev = progress(2 * 1024 * 1024, 8 * 1024 * 1024);
	castra_progress_event(cp, &ev);
	drain(master, buf, sizeof(buf));
	/* Redrawn in place: carriage return, bar, clear to the end. */
	ATF_CHECK_MSG(strstr(buf, "\ra.img") != NULL, "%s", buf);
	ATF_CHECK_MSG(strstr(buf, " 25% [") != NULL, "%s", buf);
	ATF_CHECK_MSG(strstr(buf, "]   2.0 MiB/8.0 MiB ") != NULL, "%s", buf);
	ATF_CHECK_MSG(strstr(buf, "/s ") != NULL, "no rate: %s", buf);
	ATF_CHECK_MSG(strstr(buf, " left") != NULL, "no time: %s", buf);
	ATF_CHECK_MSG(strcmp(buf + strlen(buf) - 3, "\033[K") == 0, "%s", buf);
	/* The bar keeps its length from one drawing to the next. */
	ATF_CHECK_MSG(bar_width(buf) > 0 &&
	    bar_width(buf) == bar_width(strrchr(buf, '\r')), "%s", buf);
	ATF_CHECK_MSG(strchr(buf, '\n') == NULL, "a new line: %s", buf);
	/* Never wider than the terminal (80 columns when it says 0). */
	ATF_CHECK_MSG(strlen(strrchr(buf, '\r')) - strlen("\r\033[K") <= 79,
	    "too wide: %s", buf);
	/* More than promised: a full bar, not a write past its end. */
	pass_ms(150);
	ev = progress(UINT64_MAX, 8 * 1024 * 1024);
	castra_progress_event(cp, &ev);
	drain(master, buf, sizeof(buf));
	ATF_CHECK_MSG(strstr(buf, " 100% [#") != NULL, "%s", buf);
	/* Anything else printed first ends the bar's line. */
	castra_progress_end(cp);
	drain(master, buf, sizeof(buf));
	ATF_CHECK_MSG(strchr(buf, '\n') != NULL, "bar not ended: %s", buf);
	castra_progress_free(cp);
	close(slave);
	close(master);
}

ATF_TC_WITHOUT_HEAD(json_events);
ATF_TC_BODY(json_events, tc)
{
	struct castra_progress	*cp;
	struct castra_event	 ev;
	char			*s;
	long long		 rate, left;
	int			 n;

	ev = progress(5, 10);
	ATF_REQUIRE((s = castra_event_json(NULL, &ev)) != NULL);
	ATF_CHECK_STREQ(s, "{\"type\":\"image_progress\",\"text\":\"" URL
	    "\",\"done\":5,\"total\":10}");
	free(s);

	/* With a display that measures: rate and time left. */
	ATF_REQUIRE((cp = castra_progress_new(-1)) != NULL);
	ev = progress(0, 1000000);
	ATF_REQUIRE((s = castra_event_json(cp, &ev)) != NULL);
	ATF_CHECK_MSG(strstr(s, "bytes_per_second") == NULL, "%s", s);
	free(s);
	pass_ms(100);
	ev = progress(500000, 1000000);
	ATF_REQUIRE((s = castra_event_json(cp, &ev)) != NULL);
	n = sscanf(s, "{\"type\":\"image_progress\",\"text\":\"" URL
	    "\",\"done\":500000,\"total\":1000000,\"bytes_per_second\":%lld,"
	    "\"left_ms\":%lld}", &rate, &left);
	ATF_CHECK_MSG(n == 2, "%s", s);
	/* Half done in at least 100 ms: the other half takes as long. */
	ATF_CHECK_MSG(rate > 0 && rate <= 5000000, "rate %lld", rate);
	ATF_CHECK_MSG(left >= 99, "left %lld", left);
	free(s);
	castra_progress_free(cp);

	memset(&ev, 0, sizeof(ev));
	ev.ev_type = CASTRA_EV_VM_LAUNCHED;
	ev.ev_vm = "web-0";
	ev.ev_text = "tcg";
	ev.ev_num = 4242;
	ATF_REQUIRE((s = castra_event_json(NULL, &ev)) != NULL);
	ATF_CHECK_STREQ(s, "{\"type\":\"vm_launched\",\"vm\":\"web-0\","
	    "\"text\":\"tcg\",\"num\":4242}");
	free(s);

	/* Text is escaped; an unknown type is named so. */
	ev.ev_type = CASTRA_EV_MAX + 3;
	ev.ev_vm = "";
	ev.ev_text = "say \"hi\"\n";
	ev.ev_num = 0;
	ev.ev_ms = 1500;
	ATF_REQUIRE((s = castra_event_json(NULL, &ev)) != NULL);
	ATF_CHECK_STREQ(s, "{\"type\":\"unknown\",\"text\":"
	    "\"say \\\"hi\\\"\\n\",\"ms\":1500}");
	free(s);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, plain_lines);
	ATF_TP_ADD_TC(tp, terminal_bar);
	ATF_TP_ADD_TC(tp, json_events);
	return (atf_no_error());
}
