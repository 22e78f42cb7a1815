/*
 * Messages between the Castra processes: castra(1) and castrad(8) over
 * the control socket, and castrad and its three children over their
 * socketpairs.  All of them travel as imsg; every payload is one of the
 * fixed-size structs below and its reader (proto.c) checks the exact
 * size and terminates every string before anything else looks at it.
 *
 * Bump CASTRA_PROTO_VERSION whenever a type or a struct here changes.
 */

#ifndef CASTRA_PROTO_H
#define CASTRA_PROTO_H

#include <stdint.h>

#include "config.h"

#define CASTRA_PROTO_VERSION	1
#define PROJECT_ID_MAX		96	/* <slug>-<hash> */
#define VM_NAME_MAX		(CONFIG_NAME_MAX + 1)
/*
 * castrad's children know a project by its key, "<owner uid>.<id>", so
 * that two users' projects of one id are two projects.  A key passes as
 * a name (proto_name_valid): an id leaves room for the dot and ten
 * digits of a uid.
 */
#define PROJECT_KEY_MAX		VM_NAME_MAX
#define PROJECT_ID_LEN		(PROJECT_KEY_MAX - 1 - 11)
#define TOKEN_HEX_LEN		64
#define CTL_TEXT_MAX		512
#define CTL_PATH_MAX		1024
#define CTL_CMDLINE_MAX		1024
#define CTL_BOOTSTRAP_MAX	(64 * 1024 * 1024)	/* a VM's tar */

/* The descriptor on which a child finds its channel to castrad. */
#define PROC_PARENT_FD		3

enum imsg_type {
	IMSG_NONE,

	/* castra <-> castrad */
	IMSG_CTL_HELLO,			/* ctl_hello, both ways, first */
	IMSG_CTL_PROJECT,		/* ctl_project; fd: state root */
	IMSG_CTL_IMAGE,			/* ctl_image; fd: local file */
	IMSG_CTL_VM,			/* ctl_vm; fd: bootstrap tar or none */
	IMSG_CTL_UP_REQUEST,		/* ctl_request */
	IMSG_CTL_DOWN_REQUEST,		/* ctl_request */
	IMSG_CTL_EVENT,			/* ctl_event, castrad -> castra */
	IMSG_CTL_RESULT,		/* ctl_result, ends a request */

	/* castrad <-> castra-broker */
	IMSG_BROKER_PROJECT,		/* broker_project; fd: state root */
	IMSG_BROKER_LISTEN,		/* broker_project; fd: listener */
	IMSG_BROKER_VM,			/* broker_vm */
	IMSG_BROKER_STOP,		/* broker_project */
	IMSG_BROKER_STOP_RESPONSE,	/* broker_project: port closed */
	IMSG_BROKER_HANDSHAKE_EVENT,	/* broker_vm, a granted guest */

	/* castrad <-> castra-imgd */
	IMSG_IMG_FETCH_REQUEST,		/* img_request; fd: local file */
	IMSG_IMG_PROGRESS_EVENT,	/* img_progress */
	IMSG_IMG_READY_RESPONSE,	/* img_ready */
	IMSG_IMG_FAIL_RESPONSE,		/* img_fail */

	/* castrad <-> castra-vmm */
	IMSG_VMM_START_REQUEST,		/* vmm_start; fd: state root */
	IMSG_VMM_START_RESPONSE,	/* vmm_vm */
	IMSG_VMM_STOP_REQUEST,		/* vmm_stop */
	IMSG_VMM_STOP_EVENT,		/* vmm_stop_event */
	IMSG_VMM_STOP_RESPONSE,		/* vmm_stop_event */
	IMSG_VMM_ADOPT_REQUEST,		/* vmm_vm; fd: state root */
	IMSG_VMM_EXIT_EVENT,		/* vmm_vm */
	IMSG_VMM_FAIL_RESPONSE,		/* vmm_fail */
	IMSG_VMM_HANDSHAKE_EVENT,	/* broker_vm: first hello */

	/* castrad <-> castra-imgd, cache upkeep */
	IMSG_IMG_CONFIG,		/* img_config, before any request */
	IMSG_IMG_HOLD,			/* img_hold: a running VM uses it */
	IMSG_IMG_RELEASE,		/* img_hold */
	IMSG_IMG_REMOVE_REQUEST,	/* img_remove */
	IMSG_IMG_REMOVE_RESPONSE,	/* img_removed */

	/* castra <-> castrad: castra image */
	IMSG_CTL_IMAGE_PULL,		/* ctl_image, urls: fetch into cache */
	IMSG_CTL_IMAGE_IMPORT,		/* ctl_image, no urls; fd: the file */
	IMSG_CTL_IMAGE_REMOVE,		/* ctl_image_remove */

	/* castrad -> castra-vmm, just before the VM's start request */
	IMSG_VMM_BOOTSTRAP,		/* vmm_bootstrap; fd: the tar */

	IMSG_MAX
};

/* Control socket */

struct ctl_hello {
	uint32_t	ch_version;
	char		ch_software[32];	/* "castra 0.1.0 (abc1234)" */
};

struct ctl_project {
	char		cp_id[PROJECT_ID_MAX];
	char		cp_name[VM_NAME_MAX];
	char		cp_config[CTL_PATH_MAX];	/* for display only */
	char		cp_token[TOKEN_HEX_LEN + 1];	/* host sessions */
	uint16_t	cp_broker_port;
	uint32_t	cp_wait_graceful;
	uint32_t	cp_wait_sigterm;
	uint32_t	cp_wait_sigkill;
	uint32_t	cp_nimages;
	uint32_t	cp_nvms;
};

struct ctl_artifact {
	char		ca_urls[CONFIG_URLS_MAX][CTL_PATH_MAX / 4];
	uint32_t	ca_nurls;
	char		ca_sha256[SHA256_HEX_LEN + 1];
	char		ca_sha512[SHA512_HEX_LEN + 1];
	uint64_t	ca_size;
};

struct ctl_image {
	char		ci_name[VM_NAME_MAX];
	uint32_t	ci_role;
#define CTL_IMAGE_DISK		0
#define CTL_IMAGE_KERNEL	1
#define CTL_IMAGE_INITRD	2
	struct ctl_artifact ci_artifact;	/* no urls: the fd is it */
};

struct ctl_forward {
	uint32_t	cf_proto;
	char		cf_bind[46];
	uint16_t	cf_host;
	uint16_t	cf_guest;
};

struct ctl_vm {
	char		cv_name[VM_NAME_MAX];
	char		cv_image[VM_NAME_MAX];
	uint32_t	cv_cpus;
	uint32_t	cv_memory_mib;
	char		cv_cmdline[CTL_CMDLINE_MAX];
	uint32_t	cv_nforwards;
	struct ctl_forward cv_forwards[CONFIG_FORWARDS_MAX];
	uint32_t	cv_ndepends;
	char		cv_depends[CONFIG_DEPENDS_MAX][VM_NAME_MAX];
};

struct ctl_request {
	char		cr_project[PROJECT_ID_MAX];
	uint32_t	cr_flags;
#define CTL_UP_BROKER_ONLY	0x01
#define CTL_UP_FORCE		0x02
#define CTL_UP_WAIT		0x04
	uint32_t	cr_wait_graceful;	/* down: overrides, 0: config */
	uint32_t	cr_wait_sigterm;
	uint32_t	cr_wait_sigkill;
};

/* One progress event; ce_type is a castra_event_type of castra.h. */
struct ctl_event {
	uint32_t	ce_type;
	char		ce_vm[VM_NAME_MAX];
	uint64_t	ce_num1;
	uint64_t	ce_num2;
	uint64_t	ce_num3;
	char		ce_text[CTL_TEXT_MAX];
};

struct ctl_result {
	int32_t		cr_status;		/* 0 or a sysexits(3) code */
	char		cr_message[CTL_TEXT_MAX];
};

/* castrad <-> castra-broker */

struct broker_project {
	char		bp_id[PROJECT_ID_MAX];
	char		bp_token[TOKEN_HEX_LEN + 1];	/* host sessions */
	uint16_t	bp_port;
	uint32_t	bp_hello_timeout;	/* seconds, 0: 5 */
	uint32_t	bp_heartbeat_timeout;	/* seconds, 0: 60 */
};

struct broker_vm {
	char		bv_project[PROJECT_ID_MAX];
	char		bv_name[VM_NAME_MAX];
	char		bv_token[TOKEN_HEX_LEN + 1];	/* "" on remove */
	int64_t		bv_timestamp;			/* handshake event */
};

/* castrad <-> castra-imgd */

struct img_request {
	uint32_t	ir_id;
	struct ctl_artifact ir_artifact;
};

struct img_progress {
	uint32_t	ip_id;
	uint64_t	ip_done;
	uint64_t	ip_total;
	char		ip_url[CTL_PATH_MAX / 4];
};

struct img_ready {
	uint32_t	ir_id;
	char		ir_sha256[SHA256_HEX_LEN + 1];
	uint64_t	ir_size;
	uint32_t	ir_fetched;	/* 0: was already cached */
};

struct img_fail {
	uint32_t	if_id;
	char		if_message[CTL_TEXT_MAX];
};

/* Timeouts for imgd, seconds (0: imgd's default); castrad's environment. */
struct img_config {
	uint32_t	ic_connect_timeout;
	uint32_t	ic_stall_timeout;	/* no byte for this long */
	uint32_t	ic_retries;		/* per mirror */
	uint32_t	ic_backoff_ms;		/* first retry; doubles */
};
#define IMG_TIMEOUT_MAX		3600	/* seconds */
#define IMG_RETRIES_MAX		10
#define IMG_BACKOFF_MAX_MS	60000

struct img_hold {
	char		ih_sha256[SHA256_HEX_LEN + 1];
};

struct img_remove {
	uint32_t	im_id;
	char		im_sha256[SHA256_HEX_LEN + 1];	/* "": prune */
	uint64_t	im_age;		/* prune: unused this long, s */
	uint64_t	im_size;	/* prune: until the cache fits */
};

struct img_removed {
	uint32_t	id_id;
	uint32_t	id_count;	/* images removed */
	uint64_t	id_bytes;	/* bytes freed */
	uint32_t	id_held;	/* spared: a running VM uses them */
	char		id_message[CTL_TEXT_MAX];	/* "" or an error */
};

struct ctl_image_remove {
	char		cx_sha256[SHA256_HEX_LEN + 1];	/* "": prune */
	uint64_t	cx_age;
	uint64_t	cx_size;
};

/* castrad <-> castra-vmm */

struct vmm_start {
	char		vs_project[PROJECT_ID_MAX];
	char		vs_name[VM_NAME_MAX];
	char		vs_token[TOKEN_HEX_LEN + 1];
	char		vs_disk[SHA256_HEX_LEN + 1];	/* cache names */
	char		vs_kernel[SHA256_HEX_LEN + 1];	/* "" for none */
	char		vs_initrd[SHA256_HEX_LEN + 1];
	char		vs_cmdline[CTL_CMDLINE_MAX];
	uint32_t	vs_cpus;
	uint32_t	vs_memory_mib;
	uint16_t	vs_broker_port;
	int64_t		vs_up_at_ms;		/* when `up` began */
	uint32_t	vs_nforwards;
	struct ctl_forward vs_forwards[CONFIG_FORWARDS_MAX];
};

struct vmm_vm {
	char		vv_project[PROJECT_ID_MAX];
	char		vv_name[VM_NAME_MAX];
	int32_t		vv_pid;
	uint64_t	vv_starttime;	/* field 22 of /proc/PID/stat */
	char		vv_accel[8];	/* "kvm" or "tcg" */
	int32_t		vv_status;	/* exit: wait(2) status */
};

/*
 * The bootstrap tar that castra packed for a VM (bootstrap.c): castra-vmm
 * keeps it as run/<vm>-bootstrap.tar for QEMU's fw_cfg
 * opt/castra/bootstrap, where the guest's agent reads it.
 */
struct vmm_bootstrap {
	char		vb_project[PROJECT_ID_MAX];
	char		vb_name[VM_NAME_MAX];
};

struct vmm_stop {
	char		vs_project[PROJECT_ID_MAX];
	char		vs_name[VM_NAME_MAX];
	uint32_t	vs_wait_graceful;
	uint32_t	vs_wait_sigterm;
	uint32_t	vs_wait_sigkill;
};

struct vmm_stop_event {
	char		se_project[PROJECT_ID_MAX];
	char		se_name[VM_NAME_MAX];
	uint32_t	se_type;	/* a castra_event_type */
	uint64_t	se_ms;
	uint64_t	se_bytes;	/* discarded overlay bytes */
	char		se_text[CTL_TEXT_MAX];
};

struct vmm_fail {
	char		vf_project[PROJECT_ID_MAX];
	char		vf_name[VM_NAME_MAX];
	char		vf_message[CTL_TEXT_MAX];
};

struct imsg;

/* proto.c: one reader per payload, exact size, strings terminated */
int	proto_name_valid(const char *);
int	proto_id_valid(const char *);
int	proto_read_hello(struct imsg *, struct ctl_hello *);
int	proto_read_project(struct imsg *, struct ctl_project *);
int	proto_read_image(struct imsg *, struct ctl_image *);
int	proto_read_vm(struct imsg *, struct ctl_vm *);
int	proto_read_request(struct imsg *, struct ctl_request *);
int	proto_read_event(struct imsg *, struct ctl_event *);
int	proto_read_result(struct imsg *, struct ctl_result *);
int	proto_read_broker_project(struct imsg *, struct broker_project *);
int	proto_read_broker_vm(struct imsg *, struct broker_vm *);
int	proto_read_vmm_vm(struct imsg *, struct vmm_vm *);
int	proto_read_vmm_stop_event(struct imsg *, struct vmm_stop_event *);
int	proto_read_vmm_fail(struct imsg *, struct vmm_fail *);
int	proto_read_image_remove(struct imsg *, struct ctl_image_remove *);
int	proto_read_img_request(struct imsg *, struct img_request *);
int	proto_read_img_config(struct imsg *, struct img_config *);
int	proto_read_img_hold(struct imsg *, struct img_hold *);
int	proto_read_img_remove(struct imsg *, struct img_remove *);
int	proto_read_img_progress(struct imsg *, struct img_progress *);
int	proto_read_img_ready(struct imsg *, struct img_ready *);
int	proto_read_img_fail(struct imsg *, struct img_fail *);
int	proto_read_img_removed(struct imsg *, struct img_removed *);

#endif /* CASTRA_PROTO_H */
