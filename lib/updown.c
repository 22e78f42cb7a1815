/*
 * castra up and castra down: describe the project to castrad and follow
 * what it does.
 *
 * The project file was parsed here, as the user.  castrad receives a
 * typed description of it, the state root as an open directory, and
 * every local file (a disk, a file:// URL) as a descriptor opened here:
 * castrad never opens a path on the user's behalf.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootstrap.h"
#include "castra.h"
#include "client.h"
#include "config.h"
#include "preflight.h"
#include "proto.h"
#include "state.h"

/* castrad takes every id castra makes (proto_id_valid). */
_Static_assert(STATE_ID_MAX - 1 <= PROJECT_ID_LEN,
    "a project id castra makes is too long for castrad");

/* A description of the project, ready to send. */
struct upload {
	struct ctl_project	 up_project;
	struct ctl_image	 up_images[64];
	int			 up_imagefds[64];
	uint32_t		 up_nimages;
	struct ctl_vm		*up_vms;
	int			*up_vmfds;	/* bootstrap tars, or NULL */
	uint32_t		 up_nvms;
	int			 up_rootfd;
};

static void
upload_free(struct upload *up)
{
	uint32_t	 i;

	for (i = 0; i < up->up_nimages; i++)
		if (up->up_imagefds[i] != -1)
			close(up->up_imagefds[i]);
	if (up->up_rootfd != -1)
		close(up->up_rootfd);
	for (i = 0; up->up_vmfds != NULL && i < up->up_nvms; i++)
		if (up->up_vmfds[i] != -1)
			close(up->up_vmfds[i]);
	free(up->up_vmfds);
	free(up->up_vms);
}

/* The host-session secret: made once, readable by the owner alone. */
static int
upload_token(struct upload *up, struct castra_error *ce)
{
	unsigned char	 secret[TOKEN_HEX_LEN / 2];
	char		*token = up->up_project.cp_token;
	size_t		 i;
	ssize_t		 n;
	int		 fd;

	if ((fd = openat(up->up_rootfd, STATE_TOKEN, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) != -1) {
		n = read(fd, token, TOKEN_HEX_LEN);
		close(fd);
		if (n == TOKEN_HEX_LEN)
			return (0);
	}
	arc4random_buf(secret, sizeof(secret));
	for (i = 0; i < sizeof(secret); i++)
		snprintf(token + 2 * i, 3, "%02x", secret[i]);
	if ((fd = openat(up->up_rootfd, STATE_TOKEN, O_WRONLY | O_CREAT |
	    O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) == -1 ||
	    write(fd, token, TOKEN_HEX_LEN) != TOKEN_HEX_LEN) {
		castra_seterr(ce, 73, "%s/%s: %s", "state root", STATE_TOKEN,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return (-1);
	}
	close(fd);
	return (0);
}

static int
upload_artifact(struct upload *up, const char *name, uint32_t role,
    const struct artifact *a, const char *dir, struct castra_error *ce)
{
	struct ctl_image	*ci;
	int			 i, fd = -1;

	if (up->up_nimages == sizeof(up->up_images) / sizeof(*ci)) {
		castra_seterr(ce, 65, "too many images");
		return (-1);
	}
	ci = &up->up_images[up->up_nimages];
	image_artifact(ci, name, role, a);
	/* A local mirror wins: no download at all. */
	for (i = 0; i < a->a_nurls && fd == -1; i++)
		if (strncmp(a->a_urls[i], "file://", 7) == 0)
			fd = castra_image_open(dir, a->a_urls[i], ce);
	if (fd == -1 && image_artifact_urls(ci, a, ce) == -1)
		return (-1);
	if (fd == -1 && ci->ci_artifact.ca_nurls == 0)
		return (-1);
	up->up_imagefds[up->up_nimages++] = fd;
	return (0);
}

static int
upload_has_image(struct upload *up, const char *name)
{
	uint32_t	 i;

	for (i = 0; i < up->up_nimages; i++)
		if (strcmp(up->up_images[i].ci_name, name) == 0)
			return (1);
	return (0);
}

/* A disk on the user's side, sent as a descriptor. */
static int
upload_local_disk(struct upload *up, const char *name, const char *dir,
    const char *path, struct castra_error *ce)
{
	struct ctl_image	*ci;
	int			 fd;

	if (up->up_nimages == sizeof(up->up_images) / sizeof(*ci)) {
		castra_seterr(ce, 65, "too many images");
		return (-1);
	}
	if ((fd = castra_image_open(dir, path, ce)) == -1)
		return (-1);
	ci = &up->up_images[up->up_nimages];
	memset(ci, 0, sizeof(*ci));
	strlcpy(ci->ci_name, name, sizeof(ci->ci_name));
	ci->ci_role = CTL_IMAGE_DISK;
	up->up_imagefds[up->up_nimages++] = fd;
	return (0);
}

/*
 * The image an instance boots, added to the upload once.  Its disk is
 * the image's, a `disk` of the project file, or --image; a kernel and
 * an initrd of the image boot whichever disk it is.
 */
static int
upload_image(struct upload *up, const struct config *cf,
    const struct instance *in, const char *override, char *name,
    size_t namelen, struct castra_error *ce)
{
	struct image	*img = NULL;
	const char	*path;

	if (in->in_vm->vm_image != NULL &&
	    (img = config_image(cf, in->in_vm->vm_image)) == NULL) {
		castra_seterr(ce, 65, "%s: no image %s", in->in_name,
		    in->in_vm->vm_image);
		return (-1);
	}
	path = override != NULL ? override : in->in_vm->vm_disk;
	snprintf(name, namelen, "%s", path != NULL || img == NULL ?
	    in->in_name : img->img_name);
	if (upload_has_image(up, name))
		return (0);
	/* --image is the user's path; a disk, the project's. */
	if (path != NULL && upload_local_disk(up, name, override != NULL ?
	    "." : cf->cf_dir, path, ce) == -1)
		return (-1);
	if (img == NULL)
		return (0);
	if ((path == NULL && upload_artifact(up, name, CTL_IMAGE_DISK,
	    &img->img_disk, cf->cf_dir, ce) == -1) ||
	    (img->img_kernel.a_nurls > 0 && upload_artifact(up, name,
	    CTL_IMAGE_KERNEL, &img->img_kernel, cf->cf_dir, ce) == -1) ||
	    (img->img_initrd.a_nurls > 0 && upload_artifact(up, name,
	    CTL_IMAGE_INITRD, &img->img_initrd, cf->cf_dir, ce) == -1))
		return (-1);
	return (0);
}

/* Every instance of each VM this instance depends on. */
static void
upload_depends(struct ctl_vm *cv, const struct vm *vm,
    const struct instance *insts, size_t ninsts)
{
	size_t	 i;
	int	 d;

	for (d = 0; d < vm->vm_ndepends; d++)
		for (i = 0; i < ninsts; i++) {
			if (strcmp(insts[i].in_vm->vm_name,
			    vm->vm_depends[d]) != 0 ||
			    cv->cv_ndepends == CONFIG_DEPENDS_MAX)
				continue;
			strlcpy(cv->cv_depends[cv->cv_ndepends++],
			    insts[i].in_name, sizeof(cv->cv_depends[0]));
		}
}

static void
upload_vm(struct ctl_vm *cv, const struct config *cf,
    const struct instance *in, const char *image,
    const struct instance *insts, size_t ninsts)
{
	struct image	*img;
	int		 f;

	memset(cv, 0, sizeof(*cv));
	strlcpy(cv->cv_name, in->in_name, sizeof(cv->cv_name));
	strlcpy(cv->cv_image, image, sizeof(cv->cv_image));
	cv->cv_cpus = in->in_vm->vm_cpus;
	cv->cv_memory_mib = in->in_vm->vm_memory_mib;
	if (in->in_vm->vm_image != NULL &&
	    (img = config_image(cf, in->in_vm->vm_image)) != NULL &&
	    img->img_cmdline != NULL)
		strlcpy(cv->cv_cmdline, img->img_cmdline,
		    sizeof(cv->cv_cmdline));
	for (f = 0; f < in->in_nforwards; f++) {
		cv->cv_forwards[f].cf_proto = in->in_forwards[f].fw_proto;
		strlcpy(cv->cv_forwards[f].cf_bind, in->in_forwards[f].fw_bind,
		    sizeof(cv->cv_forwards[f].cf_bind));
		cv->cv_forwards[f].cf_host = in->in_forwards[f].fw_host;
		cv->cv_forwards[f].cf_guest = in->in_forwards[f].fw_guest;
	}
	cv->cv_nforwards = in->in_nforwards;
	upload_depends(cv, in->in_vm, insts, ninsts);
}

static int
upload_make(struct castra *c, struct upload *up, const char *override,
    int with_images, struct castra_error *ce)
{
	struct config	*cf = c->c_cfg;
	struct instance	*insts;
	size_t		 ninsts, i;
	char		 image[VM_NAME_MAX];

	memset(up, 0, sizeof(*up));
	up->up_rootfd = -1;
	if (state_mkdirs(c->c_root) == -1 || (up->up_rootfd = open(c->c_root,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		castra_seterr(ce, 73, "%s: %s; check the state directory",
		    c->c_root, strerror(errno));
		return (-1);
	}
	if (upload_token(up, ce) == -1)
		return (-1);
	if (config_instances(cf, &insts, &ninsts) == -1) {
		castra_seterr(ce, 65, "cannot expand the VMs of %s",
		    c->c_config);
		return (-1);
	}
	if ((up->up_vms = calloc(ninsts + 1, sizeof(*up->up_vms))) == NULL)
		goto fail;
	for (i = 0; i < ninsts; i++) {
		/* down names no image: the VM's name stands in. */
		strlcpy(image, insts[i].in_name, sizeof(image));
		if (with_images && upload_image(up, cf, &insts[i], override,
		    image, sizeof(image), ce) == -1)
			goto fail;
		upload_vm(&up->up_vms[i], cf, &insts[i], image, insts, ninsts);
	}
	up->up_nvms = ninsts;
	free(insts);

	strlcpy(up->up_project.cp_id, c->c_id, sizeof(up->up_project.cp_id));
	strlcpy(up->up_project.cp_name, cf->cf_project,
	    sizeof(up->up_project.cp_name));
	strlcpy(up->up_project.cp_config, c->c_config,
	    sizeof(up->up_project.cp_config));
	up->up_project.cp_broker_port = cf->cf_broker_port;
	up->up_project.cp_wait_graceful = cf->cf_wait_graceful;
	up->up_project.cp_wait_sigterm = cf->cf_wait_sigterm;
	up->up_project.cp_wait_sigkill = cf->cf_wait_sigkill;
	up->up_project.cp_nimages = up->up_nimages;
	up->up_project.cp_nvms = up->up_nvms;
	return (0);

 fail:
	if (ce->ce_code == 0)
		castra_seterr(ce, 70, "out of memory");
	free(insts);
	return (-1);
}

/* Send the description and a request; follow it to its result. */
static int
upload_send(struct upload *up, uint32_t type, const struct ctl_request *req,
    castra_event_fn *fn, void *arg, struct castra_error *ce)
{
	struct client	 cl;
	uint32_t	 i;
	int		 rv = -1;

	if (client_open(&cl, ce) == -1)
		return (-1);
	if (client_send(&cl, IMSG_CTL_PROJECT, up->up_rootfd,
	    &up->up_project, sizeof(up->up_project), ce) == -1)
		goto done;
	up->up_rootfd = -1;
	for (i = 0; i < up->up_nimages; i++) {
		if (client_send(&cl, IMSG_CTL_IMAGE, up->up_imagefds[i],
		    &up->up_images[i], sizeof(up->up_images[i]), ce) == -1)
			goto done;
		up->up_imagefds[i] = -1;
	}
	for (i = 0; i < up->up_nvms; i++) {
		if (client_send(&cl, IMSG_CTL_VM, up->up_vmfds != NULL ?
		    up->up_vmfds[i] : -1, &up->up_vms[i],
		    sizeof(up->up_vms[i]), ce) == -1)
			goto done;
		if (up->up_vmfds != NULL)
			up->up_vmfds[i] = -1;
	}
	if (client_send(&cl, type, -1, req, sizeof(*req), ce) == -1)
		goto done;
	rv = client_wait(&cl, fn, arg, ce);
 done:
	client_close(&cl);
	return (rv);
}

int
castra_up(struct castra *c, const struct castra_up_options *uo,
    castra_event_fn *fn, void *arg, struct castra_error *ce)
{
	struct castra_up_options	 none;
	struct ctl_request		 req;
	struct upload			 up;
	struct bootstrap_set		*bs = NULL;
	int				 rv;

	if (uo == NULL) {
		memset(&none, 0, sizeof(none));
		uo = &none;
	}
	memset(ce, 0, sizeof(*ce));
	/* The bootstrap plan (bootstrap.c); its errors stop up early. */
	if (!uo->uo_broker_only || uo->uo_plan) {
		if (bootstrap_resolve(c, uo, &bs, ce) == -1)
			return (-1);
		if (uo->uo_plan || bootstrap_plan(bs, NULL, NULL, ce) == -1) {
			rv = uo->uo_plan ? bootstrap_plan(bs, fn, arg, ce) :
			    -1;
			bootstrap_free(bs);
			return (rv);
		}
	}
	if (!uo->uo_broker_only &&
	    preflight_up(c, uo->uo_force, fn, arg, ce) == -1) {
		bootstrap_free(bs);
		return (-1);
	}
	if (upload_make(c, &up, uo->uo_image, !uo->uo_broker_only,
	    ce) == -1 || bootstrap_tarfds(bs, up.up_vms, up.up_nvms,
	    &up.up_vmfds, ce) == -1) {
		upload_free(&up);
		bootstrap_free(bs);
		return (-1);
	}
	memset(&req, 0, sizeof(req));
	strlcpy(req.cr_project, c->c_id, sizeof(req.cr_project));
	if (uo->uo_broker_only)
		req.cr_flags |= CTL_UP_BROKER_ONLY;
	if (uo->uo_force)
		req.cr_flags |= CTL_UP_FORCE;
	if (uo->uo_wait)
		req.cr_flags |= CTL_UP_WAIT;
	rv = upload_send(&up, IMSG_CTL_UP_REQUEST, &req, fn, arg, ce);
	upload_free(&up);
	/* castrad has answered: provision the VMs that bootstrap. */
	if (rv == 0 && bs != NULL)
		rv = bootstrap_run(bs, fn, arg, ce);
	bootstrap_free(bs);
	return (rv);
}

int
castra_down(struct castra *c, const struct castra_down_options *dn,
    castra_event_fn *fn, void *arg, struct castra_error *ce)
{
	struct ctl_request	 req;
	struct upload		 up;
	int			 rv;

	memset(ce, 0, sizeof(*ce));
	if (upload_make(c, &up, NULL, 0, ce) == -1) {
		upload_free(&up);
		return (-1);
	}
	memset(&req, 0, sizeof(req));
	strlcpy(req.cr_project, c->c_id, sizeof(req.cr_project));
	if (dn != NULL) {
		req.cr_wait_graceful = dn->do_wait_graceful;
		req.cr_wait_sigterm = dn->do_wait_sigterm;
		req.cr_wait_sigkill = dn->do_wait_sigkill;
	}
	rv = upload_send(&up, IMSG_CTL_DOWN_REQUEST, &req, fn, arg, ce);
	upload_free(&up);
	return (rv);
}
