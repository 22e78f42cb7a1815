/*
 * The readers of lib/proto.c against hostile payloads.  Every message
 * travels through a real socketpair as imsg, the way castrad receives
 * it, and must be refused when its size, a string, a name, a port, a
 * count or an address is wrong, and taken when it is right.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <atf-c.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"
#include "proto.h"

#define GOOD_TOKEN	"0123456789abcdef0123456789abcdef" \
			"0123456789abcdef0123456789abcdef"
#define GOOD_SHA256	"e3b0c44298fc1c149afbf4c8996fb924" \
			"27ae41e4649b934ca495991b7852b855"

struct channel {
	struct imsgbuf	 ch_out;
	struct imsgbuf	 ch_in;
	int		 ch_fds[2];
};

static void	channel_open(struct channel *);
static void	channel_close(struct channel *);
static void	channel_pass(struct channel *, uint32_t, const void *, size_t,
		    struct imsg *);

static void
channel_open(struct channel *ch)
{
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, ch->ch_fds) == 0);
	ATF_REQUIRE(imsgbuf_init(&ch->ch_out, ch->ch_fds[0]) == 0);
	ATF_REQUIRE(imsgbuf_init(&ch->ch_in, ch->ch_fds[1]) == 0);
}

static void
channel_close(struct channel *ch)
{
	imsgbuf_clear(&ch->ch_out);
	imsgbuf_clear(&ch->ch_in);
	close(ch->ch_fds[0]);
	close(ch->ch_fds[1]);
}

/* Send len bytes as one message of that type and take it on the far end. */
static void
channel_pass(struct channel *ch, uint32_t type, const void *data, size_t len,
    struct imsg *imsg)
{
	ATF_REQUIRE(imsg_compose(&ch->ch_out, type, 0, 0, -1, data,
	    len) == 1);
	ATF_REQUIRE(imsgbuf_flush(&ch->ch_out) == 0);
	ATF_REQUIRE(imsgbuf_read(&ch->ch_in) == 1);
	ATF_REQUIRE(imsgbuf_get(&ch->ch_in, imsg) == 1);
}

/*
 * Pass a payload and run a reader on it.  The reader is called through
 * a macro so that each keeps its own payload type.
 */
#define READ(type, reader, in, len, out) __extension__ ({		\
	struct channel	 _ch;						\
	struct imsg	 _imsg;						\
	int		 _rc;						\
									\
	channel_open(&_ch);						\
	channel_pass(&_ch, (type), (in), (len), &_imsg);		\
	errno = 0;							\
	_rc = reader(&_imsg, (out));					\
	imsg_free(&_imsg);						\
	channel_close(&_ch);						\
	_rc;								\
})

#define REFUSED(type, reader, in, out) do {				\
	ATF_CHECK_EQ_MSG(READ(type, reader, &(in), sizeof(in), &(out)),	\
	    -1, "%s took a bad payload at line %d", #reader, __LINE__);	\
	ATF_CHECK_EQ(errno, EBADMSG);					\
} while (0)

#define TAKEN(type, reader, in, out)					\
	ATF_CHECK_EQ_MSG(READ(type, reader, &(in), sizeof(in), &(out)),	\
	    0, "%s refused a good payload at line %d", #reader, __LINE__)

static const char *bad_names[] = {
	"", ".", "..", "/", "../etc", "a/b", "-a", "_a", ".a", "a b",
	"a\nb", "a,b", "caf\xc3\xa9", "a;rm"
};

static void
good_project(struct ctl_project *cp)
{
	memset(cp, 0, sizeof(*cp));
	strlcpy(cp->cp_id, "devbox-0123abcd", sizeof(cp->cp_id));
	strlcpy(cp->cp_name, "devbox", sizeof(cp->cp_name));
	strlcpy(cp->cp_config, "/home/u/devbox/castra.conf",
	    sizeof(cp->cp_config));
	strlcpy(cp->cp_token, GOOD_TOKEN, sizeof(cp->cp_token));
	cp->cp_broker_port = 7070;
	cp->cp_wait_graceful = 20;
	cp->cp_nimages = 1;
	cp->cp_nvms = 1;
}

static void
good_image(struct ctl_image *ci)
{
	memset(ci, 0, sizeof(*ci));
	strlcpy(ci->ci_name, "castra-default", sizeof(ci->ci_name));
	ci->ci_role = CTL_IMAGE_DISK;
	strlcpy(ci->ci_artifact.ca_urls[0], "http://127.0.0.1:8000/disk",
	    sizeof(ci->ci_artifact.ca_urls[0]));
	ci->ci_artifact.ca_nurls = 1;
	strlcpy(ci->ci_artifact.ca_sha256, GOOD_SHA256,
	    sizeof(ci->ci_artifact.ca_sha256));
}

static void
good_vm(struct ctl_vm *cv)
{
	memset(cv, 0, sizeof(*cv));
	strlcpy(cv->cv_name, "devbox", sizeof(cv->cv_name));
	strlcpy(cv->cv_image, "castra-default", sizeof(cv->cv_image));
	cv->cv_cpus = 1;
	cv->cv_memory_mib = 256;
	strlcpy(cv->cv_cmdline, "console=ttyS0 quiet",
	    sizeof(cv->cv_cmdline));
	cv->cv_nforwards = 1;
	strlcpy(cv->cv_forwards[0].cf_bind, "127.0.0.1",
	    sizeof(cv->cv_forwards[0].cf_bind));
	cv->cv_forwards[0].cf_host = 2222;
	cv->cv_forwards[0].cf_guest = 22;
	cv->cv_ndepends = 1;
	strlcpy(cv->cv_depends[0], "db", sizeof(cv->cv_depends[0]));
}

/* Every reader refuses a payload one byte short, one long, or empty. */
#define SIZES(type, reader, stype) do {					\
	char	_buf[sizeof(stype) + 1];				\
	stype	_out;							\
									\
	memset(_buf, 0, sizeof(_buf));					\
	ATF_CHECK_EQ_MSG(READ(type, reader, _buf, sizeof(stype) - 1,	\
	    &_out), -1, "%s took a short payload", #reader);		\
	ATF_CHECK_EQ_MSG(READ(type, reader, _buf, sizeof(stype) + 1,	\
	    &_out), -1, "%s took a long payload", #reader);		\
	ATF_CHECK_EQ_MSG(READ(type, reader, NULL, 0, &_out), -1,	\
	    "%s took an empty payload", #reader);			\
} while (0)

ATF_TC_WITHOUT_HEAD(sizes);
ATF_TC_BODY(sizes, tc)
{
	SIZES(IMSG_CTL_HELLO, proto_read_hello, struct ctl_hello);
	SIZES(IMSG_CTL_PROJECT, proto_read_project, struct ctl_project);
	SIZES(IMSG_CTL_IMAGE, proto_read_image, struct ctl_image);
	SIZES(IMSG_CTL_VM, proto_read_vm, struct ctl_vm);
	SIZES(IMSG_CTL_UP_REQUEST, proto_read_request, struct ctl_request);
	SIZES(IMSG_CTL_EVENT, proto_read_event, struct ctl_event);
	SIZES(IMSG_CTL_RESULT, proto_read_result, struct ctl_result);
	SIZES(IMSG_BROKER_VM, proto_read_broker_vm, struct broker_vm);
	SIZES(IMSG_VMM_START_RESPONSE, proto_read_vmm_vm, struct vmm_vm);
	SIZES(IMSG_VMM_STOP_EVENT, proto_read_vmm_stop_event,
	    struct vmm_stop_event);
	SIZES(IMSG_VMM_FAIL_RESPONSE, proto_read_vmm_fail, struct vmm_fail);
	SIZES(IMSG_CTL_IMAGE_REMOVE, proto_read_image_remove,
	    struct ctl_image_remove);
	SIZES(IMSG_IMG_FETCH_REQUEST, proto_read_img_request,
	    struct img_request);
	SIZES(IMSG_IMG_CONFIG, proto_read_img_config, struct img_config);
	SIZES(IMSG_IMG_HOLD, proto_read_img_hold, struct img_hold);
	SIZES(IMSG_IMG_REMOVE_REQUEST, proto_read_img_remove,
	    struct img_remove);
	SIZES(IMSG_IMG_PROGRESS_EVENT, proto_read_img_progress,
	    struct img_progress);
	SIZES(IMSG_IMG_READY_RESPONSE, proto_read_img_ready,
	    struct img_ready);
	SIZES(IMSG_IMG_FAIL_RESPONSE, proto_read_img_fail, struct img_fail);
	SIZES(IMSG_IMG_REMOVE_RESPONSE, proto_read_img_removed,
	    struct img_removed);
}

ATF_TC_WITHOUT_HEAD(names);
ATF_TC_BODY(names, tc)
{
	char	 name[VM_NAME_MAX + 1];
	size_t	 i;

	for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
		ATF_CHECK_MSG(!proto_name_valid(bad_names[i]),
		    "\"%s\" taken as a name", bad_names[i]);
	ATF_CHECK(proto_name_valid("a"));
	ATF_CHECK(proto_name_valid("0"));
	ATF_CHECK(proto_name_valid("web-1.test_b"));

	memset(name, 'a', sizeof(name));
	name[CONFIG_NAME_MAX] = '\0';
	ATF_CHECK(proto_name_valid(name));
	name[CONFIG_NAME_MAX] = 'a';
	name[CONFIG_NAME_MAX + 1] = '\0';
	ATF_CHECK(!proto_name_valid(name));
}

/* A string that fills its field has no terminator: text is cut, */
ATF_TC_WITHOUT_HEAD(unterminated_text);
ATF_TC_BODY(unterminated_text, tc)
{
	struct ctl_hello	 ch;
	struct ctl_event	 ce;
	struct ctl_result	 cr;
	struct vmm_fail		 vf;
	struct img_progress	 ip;
	struct img_fail		 fl;
	struct img_removed	 rd;

	memset(&ch, 'x', sizeof(ch));
	ATF_REQUIRE(READ(IMSG_CTL_HELLO, proto_read_hello, &ch, sizeof(ch),
	    &ch) == 0);
	ATF_CHECK_EQ(strlen(ch.ch_software), sizeof(ch.ch_software) - 1);

	memset(&ce, 'x', sizeof(ce));
	ATF_REQUIRE(READ(IMSG_CTL_EVENT, proto_read_event, &ce, sizeof(ce),
	    &ce) == 0);
	ATF_CHECK_EQ(strlen(ce.ce_vm), sizeof(ce.ce_vm) - 1);
	ATF_CHECK_EQ(strlen(ce.ce_text), sizeof(ce.ce_text) - 1);

	memset(&cr, 'x', sizeof(cr));
	ATF_REQUIRE(READ(IMSG_CTL_RESULT, proto_read_result, &cr,
	    sizeof(cr), &cr) == 0);
	ATF_CHECK_EQ(strlen(cr.cr_message), sizeof(cr.cr_message) - 1);

	memset(&vf, 0, sizeof(vf));
	memset(vf.vf_message, 'x', sizeof(vf.vf_message));
	ATF_REQUIRE(READ(IMSG_VMM_FAIL_RESPONSE, proto_read_vmm_fail, &vf,
	    sizeof(vf), &vf) == 0);
	ATF_CHECK_EQ(strlen(vf.vf_message), sizeof(vf.vf_message) - 1);

	/* What castra-imgd says about its work is text too. */
	memset(&ip, 'x', sizeof(ip));
	ATF_REQUIRE(READ(IMSG_IMG_PROGRESS_EVENT, proto_read_img_progress,
	    &ip, sizeof(ip), &ip) == 0);
	ATF_CHECK_EQ(strlen(ip.ip_url), sizeof(ip.ip_url) - 1);

	memset(&fl, 'x', sizeof(fl));
	ATF_REQUIRE(READ(IMSG_IMG_FAIL_RESPONSE, proto_read_img_fail, &fl,
	    sizeof(fl), &fl) == 0);
	ATF_CHECK_EQ(strlen(fl.if_message), sizeof(fl.if_message) - 1);

	memset(&rd, 'x', sizeof(rd));
	ATF_REQUIRE(READ(IMSG_IMG_REMOVE_RESPONSE, proto_read_img_removed,
	    &rd, sizeof(rd), &rd) == 0);
	ATF_CHECK_EQ(strlen(rd.id_message), sizeof(rd.id_message) - 1);
}

/* ... but a name, an id or a token that fills its field is refused. */
ATF_TC_WITHOUT_HEAD(unterminated_names);
ATF_TC_BODY(unterminated_names, tc)
{
	struct ctl_project	 cp, cpo;
	struct ctl_vm		 cv, cvo;
	struct ctl_image	 ci, cio;
	struct ctl_request	 rq, rqo;
	struct broker_vm	 bv, bvo;
	struct vmm_vm		 vv, vvo;
	struct vmm_stop_event	 se, seo;
	struct vmm_fail		 vf, vfo;

	good_project(&cp);
	memset(cp.cp_id, 'a', sizeof(cp.cp_id));
	REFUSED(IMSG_CTL_PROJECT, proto_read_project, cp, cpo);
	good_project(&cp);
	memset(cp.cp_name, 'a', sizeof(cp.cp_name));
	REFUSED(IMSG_CTL_PROJECT, proto_read_project, cp, cpo);
	good_project(&cp);
	memset(cp.cp_token, 'a', sizeof(cp.cp_token));
	REFUSED(IMSG_CTL_PROJECT, proto_read_project, cp, cpo);
	/* The path is for display only: cut, not refused. */
	good_project(&cp);
	memset(cp.cp_config, '/', sizeof(cp.cp_config));
	TAKEN(IMSG_CTL_PROJECT, proto_read_project, cp, cpo);
	ATF_CHECK_EQ(strlen(cpo.cp_config), sizeof(cpo.cp_config) - 1);

	good_vm(&cv);
	memset(cv.cv_name, 'a', sizeof(cv.cv_name));
	REFUSED(IMSG_CTL_VM, proto_read_vm, cv, cvo);
	good_vm(&cv);
	memset(cv.cv_image, 'a', sizeof(cv.cv_image));
	REFUSED(IMSG_CTL_VM, proto_read_vm, cv, cvo);
	good_vm(&cv);
	memset(cv.cv_cmdline, 'a', sizeof(cv.cv_cmdline));
	REFUSED(IMSG_CTL_VM, proto_read_vm, cv, cvo);
	good_vm(&cv);
	memset(cv.cv_depends[0], 'a', sizeof(cv.cv_depends[0]));
	REFUSED(IMSG_CTL_VM, proto_read_vm, cv, cvo);
	good_vm(&cv);
	memset(cv.cv_forwards[0].cf_bind, '1',
	    sizeof(cv.cv_forwards[0].cf_bind));
	REFUSED(IMSG_CTL_VM, proto_read_vm, cv, cvo);

	good_image(&ci);
	memset(ci.ci_name, 'a', sizeof(ci.ci_name));
	REFUSED(IMSG_CTL_IMAGE, proto_read_image, ci, cio);
	good_image(&ci);
	memset(ci.ci_artifact.ca_urls[0] + 7, 'a',
	    sizeof(ci.ci_artifact.ca_urls[0]) - 7);
	REFUSED(IMSG_CTL_IMAGE, proto_read_image, ci, cio);
	good_image(&ci);
	memset(ci.ci_artifact.ca_sha256, 'a',
	    sizeof(ci.ci_artifact.ca_sha256));
	REFUSED(IMSG_CTL_IMAGE, proto_read_image, ci, cio);
	good_image(&ci);
	memset(ci.ci_artifact.ca_sha512, 'a',
	    sizeof(ci.ci_artifact.ca_sha512));
	REFUSED(IMSG_CTL_IMAGE, proto_read_image, ci, cio);

	memset(&rq, 'a', sizeof(rq));
	rq.cr_wait_graceful = rq.cr_wait_sigterm = rq.cr_wait_sigkill = 0;
	REFUSED(IMSG_CTL_UP_REQUEST, proto_read_request, rq, rqo);

	memset(&bv, 'a', sizeof(bv));
	REFUSED(IMSG_BROKER_VM, proto_read_broker_vm, bv, bvo);
	memset(&vv, 'a', sizeof(vv));
	REFUSED(IMSG_VMM_START_RESPONSE, proto_read_vmm_vm, vv, vvo);
	memset(&se, 'a', sizeof(se));
	REFUSED(IMSG_VMM_STOP_EVENT, proto_read_vmm_stop_event, se, seo);
	memset(&vf, 'a', sizeof(vf));
	REFUSED(IMSG_VMM_FAIL_RESPONSE, proto_read_vmm_fail, vf, vfo);
}

ATF_TC_WITHOUT_HEAD(project);
ATF_TC_BODY(project, tc)
{
	static const char *bad_ids[] = {
		"", ".", "..", "/", "../x", "a/b", "Devbox-1", "a b",
		"a_b", "a.b", "a\tb"
	};
	static const char *bad_tokens[] = {
		"", "0123",
		"0123456789abcdef0123456789abcdef"
		"0123456789abcdef0123456789abcdeg",
		"0123456789abcdef0123456789abcdef"
		"0123456789abcdef0123456789abcde "
	};
	struct ctl_project	 cp, out;
	size_t			 i;

	good_project(&cp);
	TAKEN(IMSG_CTL_PROJECT, proto_read_project, cp, out);
	ATF_CHECK_STREQ(out.cp_id, cp.cp_id);
	ATF_CHECK_EQ(out.cp_broker_port, 7070);

	for (i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		good_project(&cp);
		strlcpy(cp.cp_id, bad_ids[i], sizeof(cp.cp_id));
		REFUSED(IMSG_CTL_PROJECT, proto_read_project, cp, out);
	}
	/* An id leaves room in castrad's key for the owner's uid. */
	good_project(&cp);
	memset(cp.cp_id, 'a', PROJECT_ID_LEN);
	TAKEN(IMSG_CTL_PROJECT, proto_read_project, cp, out);
	ATF_CHECK_EQ(strlen(out.cp_id), PROJECT_ID_LEN);
	good_project(&cp);
	memset(cp.cp_id, 'a', PROJECT_ID_LEN + 1);
	REFUSED(IMSG_CTL_PROJECT, proto_read_project, cp, out);
	for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		good_project(&cp);
		strlcpy(cp.cp_name, bad_names[i], sizeof(cp.cp_name));
		REFUSED(IMSG_CTL_PROJECT, proto_read_project, cp, out);
	}
	for (i = 0; i < sizeof(bad_tokens) / sizeof(bad_tokens[0]); i++) {
		good_project(&cp);
		strlcpy(cp.cp_token, bad_tokens[i], sizeof(cp.cp_token));
		REFUSED(IMSG_CTL_PROJECT, proto_read_project, cp, out);
	}

	good_project(&cp);
	cp.cp_broker_port = 0;
	REFUSED(IMSG_CTL_PROJECT, proto_read_project, cp, out);
	good_project(&cp);
	cp.cp_wait_graceful = 3601;
	REFUSED(IMSG_CTL_PROJECT, proto_read_project, cp, out);
	good_project(&cp);
	cp.cp_wait_sigterm = UINT32_MAX;
	REFUSED(IMSG_CTL_PROJECT, proto_read_project, cp, out);
	good_project(&cp);
	cp.cp_wait_sigkill = 3601;
	REFUSED(IMSG_CTL_PROJECT, proto_read_project, cp, out);
}

ATF_TC_WITHOUT_HEAD(image);
ATF_TC_BODY(image, tc)
{
	struct ctl_image	 ci, out;
	size_t			 i;

	good_image(&ci);
	TAKEN(IMSG_CTL_IMAGE, proto_read_image, ci, out);
	ATF_CHECK_STREQ(out.ci_name, "castra-default");

	/* A local file: no url, no digest yet. */
	good_image(&ci);
	ci.ci_artifact.ca_nurls = 0;
	ci.ci_artifact.ca_sha256[0] = '\0';
	TAKEN(IMSG_CTL_IMAGE, proto_read_image, ci, out);

	for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		good_image(&ci);
		strlcpy(ci.ci_name, bad_names[i], sizeof(ci.ci_name));
		REFUSED(IMSG_CTL_IMAGE, proto_read_image, ci, out);
	}

	good_image(&ci);
	ci.ci_role = CTL_IMAGE_INITRD + 1;
	REFUSED(IMSG_CTL_IMAGE, proto_read_image, ci, out);
	good_image(&ci);
	ci.ci_role = UINT32_MAX;
	REFUSED(IMSG_CTL_IMAGE, proto_read_image, ci, out);

	good_image(&ci);
	ci.ci_artifact.ca_nurls = CONFIG_URLS_MAX + 1;
	REFUSED(IMSG_CTL_IMAGE, proto_read_image, ci, out);
	good_image(&ci);
	ci.ci_artifact.ca_nurls = UINT32_MAX;
	REFUSED(IMSG_CTL_IMAGE, proto_read_image, ci, out);
	/* castrad never opens a path for a client. */
	good_image(&ci);
	strlcpy(ci.ci_artifact.ca_urls[0], "file:///etc/shadow",
	    sizeof(ci.ci_artifact.ca_urls[0]));
	REFUSED(IMSG_CTL_IMAGE, proto_read_image, ci, out);
	good_image(&ci);
	ci.ci_artifact.ca_nurls = 2;
	strlcpy(ci.ci_artifact.ca_urls[1], "ftp://127.0.0.1/x",
	    sizeof(ci.ci_artifact.ca_urls[1]));
	REFUSED(IMSG_CTL_IMAGE, proto_read_image, ci, out);

	good_image(&ci);
	ci.ci_artifact.ca_sha256[10] = 'g';
	REFUSED(IMSG_CTL_IMAGE, proto_read_image, ci, out);
	good_image(&ci);
	ci.ci_artifact.ca_sha256[63] = '\0';
	REFUSED(IMSG_CTL_IMAGE, proto_read_image, ci, out);
	good_image(&ci);
	memset(ci.ci_artifact.ca_sha512, 'z', SHA512_HEX_LEN);
	REFUSED(IMSG_CTL_IMAGE, proto_read_image, ci, out);

	/*
	 * castra lowercases a digest, and castra-imgd takes no other:
	 * castrad must not pass on one that imgd would refuse.
	 */
	good_image(&ci);
	ci.ci_artifact.ca_sha256[0] = 'E';
	REFUSED(IMSG_CTL_IMAGE, proto_read_image, ci, out);
	good_image(&ci);
	memset(ci.ci_artifact.ca_sha512, 'A', SHA512_HEX_LEN);
	REFUSED(IMSG_CTL_IMAGE, proto_read_image, ci, out);
}

ATF_TC_WITHOUT_HEAD(vm);
ATF_TC_BODY(vm, tc)
{
	static const char *bad_binds[] = {
		"", "localhost", "0", "127.0.0.1.1", "127.0.0.256", "::1",
		"127.0.0.1 ", " 127.0.0.1", "127.0.0.1:22", "1.2.3"
	};
	struct ctl_vm	 cv, out;
	size_t		 i;

	good_vm(&cv);
	TAKEN(IMSG_CTL_VM, proto_read_vm, cv, out);
	ATF_CHECK_STREQ(out.cv_name, "devbox");

	for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		good_vm(&cv);
		strlcpy(cv.cv_name, bad_names[i], sizeof(cv.cv_name));
		REFUSED(IMSG_CTL_VM, proto_read_vm, cv, out);
		good_vm(&cv);
		strlcpy(cv.cv_image, bad_names[i], sizeof(cv.cv_image));
		REFUSED(IMSG_CTL_VM, proto_read_vm, cv, out);
		good_vm(&cv);
		strlcpy(cv.cv_depends[0], bad_names[i],
		    sizeof(cv.cv_depends[0]));
		REFUSED(IMSG_CTL_VM, proto_read_vm, cv, out);
	}
	good_vm(&cv);
	strlcpy(cv.cv_name, CONFIG_RESERVED_VM, sizeof(cv.cv_name));
	REFUSED(IMSG_CTL_VM, proto_read_vm, cv, out);

	good_vm(&cv);
	cv.cv_nforwards = CONFIG_FORWARDS_MAX + 1;
	REFUSED(IMSG_CTL_VM, proto_read_vm, cv, out);
	good_vm(&cv);
	cv.cv_nforwards = UINT32_MAX;
	REFUSED(IMSG_CTL_VM, proto_read_vm, cv, out);
	good_vm(&cv);
	cv.cv_ndepends = CONFIG_DEPENDS_MAX + 1;
	REFUSED(IMSG_CTL_VM, proto_read_vm, cv, out);
	good_vm(&cv);
	cv.cv_ndepends = UINT32_MAX;
	REFUSED(IMSG_CTL_VM, proto_read_vm, cv, out);

	/* All sixteen forwards and eight dependencies are fine. */
	good_vm(&cv);
	for (i = 0; i < CONFIG_FORWARDS_MAX; i++) {
		cv.cv_forwards[i] = cv.cv_forwards[0];
		cv.cv_forwards[i].cf_host = 2222 + i;
	}
	cv.cv_nforwards = CONFIG_FORWARDS_MAX;
	for (i = 0; i < CONFIG_DEPENDS_MAX; i++)
		snprintf(cv.cv_depends[i], sizeof(cv.cv_depends[i]), "d%zu",
		    i);
	cv.cv_ndepends = CONFIG_DEPENDS_MAX;
	TAKEN(IMSG_CTL_VM, proto_read_vm, cv, out);
	/* A bad one among them is found. */
	strlcpy(cv.cv_forwards[15].cf_bind, "::",
	    sizeof(cv.cv_forwards[15].cf_bind));
	REFUSED(IMSG_CTL_VM, proto_read_vm, cv, out);

	for (i = 0; i < sizeof(bad_binds) / sizeof(bad_binds[0]); i++) {
		good_vm(&cv);
		strlcpy(cv.cv_forwards[0].cf_bind, bad_binds[i],
		    sizeof(cv.cv_forwards[0].cf_bind));
		REFUSED(IMSG_CTL_VM, proto_read_vm, cv, out);
	}
	good_vm(&cv);
	cv.cv_forwards[0].cf_host = 0;
	REFUSED(IMSG_CTL_VM, proto_read_vm, cv, out);
	good_vm(&cv);
	cv.cv_forwards[0].cf_guest = 0;
	REFUSED(IMSG_CTL_VM, proto_read_vm, cv, out);
	good_vm(&cv);
	cv.cv_forwards[0].cf_proto = FORWARD_UDP + 1;
	REFUSED(IMSG_CTL_VM, proto_read_vm, cv, out);

	/*
	 * A comma is ordinary in a kernel command line (console=ttyS0,
	 * 115200): castra-vmm hands it to QEMU whole, as the argument of
	 * -append, never inside a key=value option, so it is taken.
	 */
	good_vm(&cv);
	strlcpy(cv.cv_cmdline, "console=ttyS0,115200,file=/etc/shadow",
	    sizeof(cv.cv_cmdline));
	TAKEN(IMSG_CTL_VM, proto_read_vm, cv, out);
	ATF_CHECK_STREQ(out.cv_cmdline, cv.cv_cmdline);

	good_vm(&cv);
	cv.cv_cpus = 0;
	REFUSED(IMSG_CTL_VM, proto_read_vm, cv, out);
	good_vm(&cv);
	cv.cv_cpus = CONFIG_CPUS_MAX + 1;
	REFUSED(IMSG_CTL_VM, proto_read_vm, cv, out);
	good_vm(&cv);
	cv.cv_memory_mib = CONFIG_MEMORY_MIN_MIB - 1;
	REFUSED(IMSG_CTL_VM, proto_read_vm, cv, out);
	good_vm(&cv);
	cv.cv_memory_mib = CONFIG_MEMORY_MAX_MIB + 1;
	REFUSED(IMSG_CTL_VM, proto_read_vm, cv, out);
}

ATF_TC_WITHOUT_HEAD(request);
ATF_TC_BODY(request, tc)
{
	struct ctl_request	 rq, out;

	memset(&rq, 0, sizeof(rq));
	strlcpy(rq.cr_project, "devbox-0123abcd", sizeof(rq.cr_project));
	rq.cr_flags = CTL_UP_BROKER_ONLY;
	TAKEN(IMSG_CTL_UP_REQUEST, proto_read_request, rq, out);
	ATF_CHECK_STREQ(out.cr_project, "devbox-0123abcd");
	rq.cr_wait_graceful = 3601;
	REFUSED(IMSG_CTL_DOWN_REQUEST, proto_read_request, rq, out);
	rq.cr_wait_graceful = 0;
	rq.cr_wait_sigkill = UINT32_MAX;
	REFUSED(IMSG_CTL_DOWN_REQUEST, proto_read_request, rq, out);
}

/* What castrad asks of castra-imgd: the artifact of a good image. */
static void
good_img_request(struct img_request *ir)
{
	struct ctl_image	 ci;

	good_image(&ci);
	memset(ir, 0, sizeof(*ir));
	ir->ir_id = 7;
	ir->ir_artifact = ci.ci_artifact;
}

ATF_TC_WITHOUT_HEAD(img_request);
ATF_TC_BODY(img_request, tc)
{
	struct img_request	 ir, out;
	struct ctl_artifact	*ca = &ir.ir_artifact;

	good_img_request(&ir);
	TAKEN(IMSG_IMG_FETCH_REQUEST, proto_read_img_request, ir, out);
	ATF_CHECK_EQ(out.ir_id, 7);
	ATF_CHECK_STREQ(out.ir_artifact.ca_sha256, GOOD_SHA256);

	/* An import: no url and no digest, the descriptor is the image. */
	good_img_request(&ir);
	ca->ca_nurls = 0;
	ca->ca_urls[0][0] = '\0';
	ca->ca_sha256[0] = '\0';
	TAKEN(IMSG_IMG_FETCH_REQUEST, proto_read_img_request, ir, out);

	good_img_request(&ir);
	ca->ca_nurls = CONFIG_URLS_MAX + 1;
	REFUSED(IMSG_IMG_FETCH_REQUEST, proto_read_img_request, ir, out);
	good_img_request(&ir);
	strlcpy(ca->ca_urls[0], "file:///etc/shadow", sizeof(ca->ca_urls[0]));
	REFUSED(IMSG_IMG_FETCH_REQUEST, proto_read_img_request, ir, out);
	/* A url, even one not in use, that fills its field. */
	good_img_request(&ir);
	memset(ca->ca_urls[0] + 7, 'a', sizeof(ca->ca_urls[0]) - 7);
	REFUSED(IMSG_IMG_FETCH_REQUEST, proto_read_img_request, ir, out);
	good_img_request(&ir);
	memset(ca->ca_urls[CONFIG_URLS_MAX - 1], 'a',
	    sizeof(ca->ca_urls[0]));
	REFUSED(IMSG_IMG_FETCH_REQUEST, proto_read_img_request, ir, out);

	good_img_request(&ir);
	ca->ca_sha256[0] = 'E';
	REFUSED(IMSG_IMG_FETCH_REQUEST, proto_read_img_request, ir, out);
	good_img_request(&ir);
	ca->ca_sha256[SHA256_HEX_LEN - 1] = '\0';
	REFUSED(IMSG_IMG_FETCH_REQUEST, proto_read_img_request, ir, out);
	good_img_request(&ir);
	ca->ca_sha256[SHA256_HEX_LEN] = 'a';
	REFUSED(IMSG_IMG_FETCH_REQUEST, proto_read_img_request, ir, out);
	good_img_request(&ir);
	memset(ca->ca_sha512, 'a', SHA512_HEX_LEN - 1);
	REFUSED(IMSG_IMG_FETCH_REQUEST, proto_read_img_request, ir, out);
	memset(ca->ca_sha512, 'a', SHA512_HEX_LEN);
	TAKEN(IMSG_IMG_FETCH_REQUEST, proto_read_img_request, ir, out);
}

ATF_TC_WITHOUT_HEAD(img_config);
ATF_TC_BODY(img_config, tc)
{
	struct img_config	 ic, out;

	/* Zero asks for imgd's default. */
	memset(&ic, 0, sizeof(ic));
	TAKEN(IMSG_IMG_CONFIG, proto_read_img_config, ic, out);
	ic.ic_connect_timeout = IMG_TIMEOUT_MAX;
	ic.ic_stall_timeout = IMG_TIMEOUT_MAX;
	ic.ic_retries = IMG_RETRIES_MAX;
	ic.ic_backoff_ms = IMG_BACKOFF_MAX_MS;
	TAKEN(IMSG_IMG_CONFIG, proto_read_img_config, ic, out);
	ATF_CHECK_EQ(out.ic_retries, IMG_RETRIES_MAX);

	ic.ic_connect_timeout = IMG_TIMEOUT_MAX + 1;
	REFUSED(IMSG_IMG_CONFIG, proto_read_img_config, ic, out);
	ic.ic_connect_timeout = 0;
	ic.ic_stall_timeout = UINT32_MAX;
	REFUSED(IMSG_IMG_CONFIG, proto_read_img_config, ic, out);
	ic.ic_stall_timeout = 0;
	ic.ic_retries = IMG_RETRIES_MAX + 1;
	REFUSED(IMSG_IMG_CONFIG, proto_read_img_config, ic, out);
	ic.ic_retries = 0;
	ic.ic_backoff_ms = IMG_BACKOFF_MAX_MS + 1;
	REFUSED(IMSG_IMG_CONFIG, proto_read_img_config, ic, out);
}

/* Digests that name no image in the cache. */
static const char *bad_digests[] = {
	"0", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
	"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85g",
	"../../../../../../../../../../../../../../../../../../etc/passwd",
	"e3b0c44298fc1c149afbf4c8996fb924 7ae41e4649b934ca495991b7852b855"
};

ATF_TC_WITHOUT_HEAD(img_digests);
ATF_TC_BODY(img_digests, tc)
{
	struct img_hold		 ih, iho;
	struct img_remove	 im, imo;
	struct ctl_image_remove	 cx, cxo;
	struct img_ready	 ir, iro;
	size_t			 i;

	memset(&ih, 0, sizeof(ih));
	strlcpy(ih.ih_sha256, GOOD_SHA256, sizeof(ih.ih_sha256));
	TAKEN(IMSG_IMG_HOLD, proto_read_img_hold, ih, iho);
	memset(&im, 0, sizeof(im));
	strlcpy(im.im_sha256, GOOD_SHA256, sizeof(im.im_sha256));
	TAKEN(IMSG_IMG_REMOVE_REQUEST, proto_read_img_remove, im, imo);
	memset(&cx, 0, sizeof(cx));
	strlcpy(cx.cx_sha256, GOOD_SHA256, sizeof(cx.cx_sha256));
	TAKEN(IMSG_CTL_IMAGE_REMOVE, proto_read_image_remove, cx, cxo);
	memset(&ir, 0, sizeof(ir));
	strlcpy(ir.ir_sha256, GOOD_SHA256, sizeof(ir.ir_sha256));
	TAKEN(IMSG_IMG_READY_RESPONSE, proto_read_img_ready, ir, iro);
	ATF_CHECK_STREQ(iro.ir_sha256, GOOD_SHA256);

	/* No digest: a prune for a removal, nothing for the others. */
	memset(&ih, 0, sizeof(ih));
	REFUSED(IMSG_IMG_HOLD, proto_read_img_hold, ih, iho);
	memset(&im, 0, sizeof(im));
	im.im_age = 86400;
	TAKEN(IMSG_IMG_REMOVE_REQUEST, proto_read_img_remove, im, imo);
	ATF_CHECK_EQ(imo.im_age, 86400);
	memset(&cx, 0, sizeof(cx));
	TAKEN(IMSG_CTL_IMAGE_REMOVE, proto_read_image_remove, cx, cxo);
	memset(&ir, 0, sizeof(ir));
	REFUSED(IMSG_IMG_READY_RESPONSE, proto_read_img_ready, ir, iro);

	for (i = 0; i < sizeof(bad_digests) / sizeof(bad_digests[0]); i++) {
		strlcpy(ih.ih_sha256, bad_digests[i], sizeof(ih.ih_sha256));
		REFUSED(IMSG_IMG_HOLD, proto_read_img_hold, ih, iho);
		strlcpy(im.im_sha256, bad_digests[i], sizeof(im.im_sha256));
		REFUSED(IMSG_IMG_REMOVE_REQUEST, proto_read_img_remove, im,
		    imo);
		strlcpy(cx.cx_sha256, bad_digests[i], sizeof(cx.cx_sha256));
		REFUSED(IMSG_CTL_IMAGE_REMOVE, proto_read_image_remove, cx,
		    cxo);
		strlcpy(ir.ir_sha256, bad_digests[i], sizeof(ir.ir_sha256));
		REFUSED(IMSG_IMG_READY_RESPONSE, proto_read_img_ready, ir,
		    iro);
	}

	/* A digest that fills its field has no end. */
	memset(ih.ih_sha256, 'a', sizeof(ih.ih_sha256));
	REFUSED(IMSG_IMG_HOLD, proto_read_img_hold, ih, iho);
	memset(im.im_sha256, 'a', sizeof(im.im_sha256));
	REFUSED(IMSG_IMG_REMOVE_REQUEST, proto_read_img_remove, im, imo);
	memset(cx.cx_sha256, 'a', sizeof(cx.cx_sha256));
	REFUSED(IMSG_CTL_IMAGE_REMOVE, proto_read_image_remove, cx, cxo);
	memset(ir.ir_sha256, 'a', sizeof(ir.ir_sha256));
	REFUSED(IMSG_IMG_READY_RESPONSE, proto_read_img_ready, ir, iro);
}

/*
 * What castrad and castra-broker tell each other names a project by its
 * key and a VM by its name, and carries tokens: all checked on arrival.
 */
ATF_TC_WITHOUT_HEAD(broker_messages);
ATF_TC_BODY(broker_messages, tc)
{
	struct broker_project	 bp, bpo;
	struct broker_vm	 bv, bvo;
	size_t			 i;

	memset(&bp, 0, sizeof(bp));
	strlcpy(bp.bp_id, "1000.devbox-0123abcd", sizeof(bp.bp_id));
	strlcpy(bp.bp_token, GOOD_TOKEN, sizeof(bp.bp_token));
	bp.bp_port = 7070;
	TAKEN(IMSG_BROKER_PROJECT, proto_read_broker_project, bp, bpo);
	ATF_CHECK_STREQ(bpo.bp_id, bp.bp_id);
	for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		strlcpy(bp.bp_id, bad_names[i], sizeof(bp.bp_id));
		REFUSED(IMSG_BROKER_PROJECT, proto_read_broker_project, bp,
		    bpo);
	}
	strlcpy(bp.bp_id, "1000.devbox-0123abcd", sizeof(bp.bp_id));
	strlcpy(bp.bp_token, "0123", sizeof(bp.bp_token));
	REFUSED(IMSG_BROKER_PROJECT, proto_read_broker_project, bp, bpo);

	memset(&bv, 0, sizeof(bv));
	strlcpy(bv.bv_project, "1000.devbox-0123abcd", sizeof(bv.bv_project));
	strlcpy(bv.bv_name, "web", sizeof(bv.bv_name));
	/* No token: the broker forgets the VM's. */
	TAKEN(IMSG_BROKER_VM, proto_read_broker_vm, bv, bvo);
	strlcpy(bv.bv_token, GOOD_TOKEN, sizeof(bv.bv_token));
	TAKEN(IMSG_BROKER_VM, proto_read_broker_vm, bv, bvo);
	ATF_CHECK_STREQ(bvo.bv_token, GOOD_TOKEN);
	strlcpy(bv.bv_token, "g123", sizeof(bv.bv_token));
	REFUSED(IMSG_BROKER_VM, proto_read_broker_vm, bv, bvo);
	strlcpy(bv.bv_token, GOOD_TOKEN, sizeof(bv.bv_token));
	for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		strlcpy(bv.bv_project, bad_names[i], sizeof(bv.bv_project));
		REFUSED(IMSG_BROKER_VM, proto_read_broker_vm, bv, bvo);
		strlcpy(bv.bv_project, "1000.devbox-0123abcd",
		    sizeof(bv.bv_project));
		strlcpy(bv.bv_name, bad_names[i], sizeof(bv.bv_name));
		REFUSED(IMSG_BROKER_VM, proto_read_broker_vm, bv, bvo);
		strlcpy(bv.bv_name, "web", sizeof(bv.bv_name));
	}
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, sizes);
	ATF_TP_ADD_TC(tp, names);
	ATF_TP_ADD_TC(tp, unterminated_text);
	ATF_TP_ADD_TC(tp, unterminated_names);
	ATF_TP_ADD_TC(tp, project);
	ATF_TP_ADD_TC(tp, image);
	ATF_TP_ADD_TC(tp, vm);
	ATF_TP_ADD_TC(tp, request);
	ATF_TP_ADD_TC(tp, img_request);
	ATF_TP_ADD_TC(tp, img_config);
	ATF_TP_ADD_TC(tp, img_digests);
	ATF_TP_ADD_TC(tp, broker_messages);
	return (atf_no_error());
}
