/*
 * A parsed castra.conf(5): the project, its images and its VMs.
 * Parsing is done by castra as the invoking user (parse.y); castrad
 * never reads a project file.
 */

#ifndef CASTRA_CONFIG_H
#define CASTRA_CONFIG_H

#include <sys/queue.h>

#include <stdint.h>
#include <stdio.h>

#define CONFIG_FILENAME		"castra.conf"
#define CONFIG_NAME_MAX		63	/* project, image and VM names */
#define CONFIG_URLS_MAX		8
#define CONFIG_FORWARDS_MAX	16
#define CONFIG_DEPENDS_MAX	8
#define CONFIG_ENV_MAX		32
#define CONFIG_BROKER_PORT	7070
#define CONFIG_WAIT_GRACEFUL	20	/* seconds */
#define CONFIG_WAIT_SIGTERM	10
#define CONFIG_WAIT_SIGKILL	5
#define CONFIG_CPUS		1
#define CONFIG_CPUS_MAX		64
#define CONFIG_MEMORY_MIB	256
#define CONFIG_MEMORY_MIN_MIB	16
#define CONFIG_MEMORY_MAX_MIB	(1024 * 1024)	/* 1 TiB */
#define CONFIG_COUNT_MAX	64
#define CONFIG_WAIT_MAX		3600	/* seconds, for each of the three */
#define CONFIG_BOOTSTRAP_TIMEOUT 300	/* seconds */
#define CONFIG_BOOTSTRAP_TIMEOUT_MAX 86400
#define CONFIG_URL_MAX		255	/* fits struct ctl_artifact */
#define CONFIG_CMDLINE_MAX	1023	/* fits struct ctl_vm */
#define CONFIG_DEFAULT_IMAGE	"castra-default"
#define CONFIG_RESERVED_VM	"host"	/* the broker's host sessions */

#define SHA256_HEX_LEN		64
#define SHA512_HEX_LEN		128

/* One downloadable file: a disk, a kernel or an initrd. */
struct artifact {
	char			*a_urls[CONFIG_URLS_MAX];
	int			 a_nurls;
	char			 a_sha256[SHA256_HEX_LEN + 1];	/* or "" */
	char			 a_sha512[SHA512_HEX_LEN + 1];	/* or "" */
	uint64_t		 a_size;			/* 0: unknown */
};

struct image {
	TAILQ_ENTRY(image)	 img_entry;
	char			*img_name;
	char			*img_srcfile;	/* where declared, for */
	int			 img_line;	/* messages */
	struct artifact		 img_disk;
	struct artifact		 img_kernel;	/* no urls: not direct boot */
	struct artifact		 img_initrd;
	char			*img_cmdline;
};
TAILQ_HEAD(imagelist, image);

struct forward {
	int			 fw_proto;
#define FORWARD_TCP		 0
#define FORWARD_UDP		 1
	char			 fw_bind[46];	/* default 127.0.0.1 */
	uint16_t		 fw_host;	/* of instance 0, see below */
	uint16_t		 fw_guest;
	int			 fw_line;	/* where declared */
};

enum bootstrap_mode {
	BOOTSTRAP_AUTO,
	BOOTSTRAP_SKIP,
	BOOTSTRAP_ALWAYS
};

struct envvar {
	char			*ev_name;
	char			*ev_value;
};

/*
 * A VM as declared.  With vm_count > 1 the declaration stands for
 * vm_count instances named <name>-0, <name>-1, ...; see
 * config_instances().  Instance i gets each forward's host port plus i,
 * so that a declaration with a forward can have several instances.
 * Paths (vm_disk, vm_bootstrap_dir) are absolute: the parser resolves
 * them against the directory of the file that names them.  After a
 * successful parse vm_image is set unless vm_disk is.
 */
struct vm {
	TAILQ_ENTRY(vm)		 vm_entry;
	char			*vm_name;
	char			*vm_srcfile;	/* where declared, for */
	int			 vm_line;	/* messages */
	char			*vm_image;	/* image name, or NULL */
	char			*vm_disk;	/* local disk path, or NULL */
	uint32_t		 vm_cpus;
	uint32_t		 vm_memory_mib;
	uint32_t		 vm_count;
	struct forward		 vm_forwards[CONFIG_FORWARDS_MAX];
	int			 vm_nforwards;
	char			*vm_depends[CONFIG_DEPENDS_MAX];
	int			 vm_ndepends;
	enum bootstrap_mode	 vm_bootstrap;
	char			*vm_bootstrap_dir;
	struct envvar		 vm_env[CONFIG_ENV_MAX];
	int			 vm_nenv;
	uint32_t		 vm_bootstrap_timeout;	/* seconds */
	char			*vm_verify;
	int			 vm_ssh;	/* bootstrap over ssh */
	char			*vm_ssh_user;	/* NULL: root */
	uint16_t		 vm_ssh_port;	/* 0: 22 */
	char			*vm_ssh_key;	/* absolute, or NULL */
};
TAILQ_HEAD(vmlist, vm);

struct config {
	char			*cf_path;	/* absolute, canonical */
	char			*cf_dir;	/* its directory, canonical */
	char			*cf_project;
	char			*cf_statedir;	/* NULL: under CASTRA_HOME;
						   else absolute */
	uint16_t		 cf_broker_port;
	uint32_t		 cf_wait_graceful;
	uint32_t		 cf_wait_sigterm;
	uint32_t		 cf_wait_sigkill;
	struct imagelist	 cf_images;
	struct vmlist		 cf_vms;
};

/*
 * One expanded VM instance: a declaration, its index and its forwards
 * with the host ports that this instance really uses.
 */
struct instance {
	char			 in_name[CONFIG_NAME_MAX + 1];
	struct vm		*in_vm;
	uint32_t		 in_index;
	struct forward		 in_forwards[CONFIG_FORWARDS_MAX];
	int			 in_nforwards;
};

/*
 * parse.y
 *
 * config_parse_file(path, defines, errp) parses a project file; path
 * NULL means config_find().  defines is NULL or a NULL-ended array of
 * "name=value" macros that win over the file's own.  On failure it
 * returns NULL with errno set: EINVAL when the file has errors, which
 * *errp then lists as "file:line: message\n" lines (malloc'd, for the
 * caller to free; a bad -D has no file or line); ENOMEM; any other
 * errno when the file could not be found or read, *errp saying which.
 * On success *errp is NULL.
 * config_parse_buffer(name, buf, len, defines, errp) parses bytes in
 * memory that messages call name; such a configuration may not include
 * files.
 */
struct config	*config_parse_file(const char *, char *const *, char **);
struct config	*config_parse_buffer(const char *, const char *, size_t,
		    char *const *, char **);

/* printconf.c */
void		 config_print(FILE *, const struct config *);

/* config.c */
void		 config_free(struct config *);
int		 config_find(char *, size_t);
struct image	*config_image(const struct config *, const char *);
struct vm	*config_vm(const struct config *, const char *);
int		 config_instances(const struct config *, struct instance **,
		    size_t *);
const char	*config_name_error(const char *);
const char	*config_proto_name(int);
const char	*config_bootstrap_name(enum bootstrap_mode);

#endif /* CASTRA_CONFIG_H */
