/*
 * The parsed project file once it exists: finding it, freeing it,
 * looking things up in it and expanding its VMs into instances.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static void	 config_free_artifact(struct artifact *);

static void
config_free_artifact(struct artifact *a)
{
	int	 i;

	for (i = 0; i < a->a_nurls; i++)
		free(a->a_urls[i]);
	a->a_nurls = 0;
}

void
config_free(struct config *cf)
{
	struct image	*img;
	struct vm	*vm;
	int		 i;

	if (cf == NULL)
		return;
	while ((img = TAILQ_FIRST(&cf->cf_images)) != NULL) {
		TAILQ_REMOVE(&cf->cf_images, img, img_entry);
		config_free_artifact(&img->img_disk);
		config_free_artifact(&img->img_kernel);
		config_free_artifact(&img->img_initrd);
		free(img->img_name);
		free(img->img_srcfile);
		free(img->img_cmdline);
		free(img);
	}
	while ((vm = TAILQ_FIRST(&cf->cf_vms)) != NULL) {
		TAILQ_REMOVE(&cf->cf_vms, vm, vm_entry);
		for (i = 0; i < vm->vm_ndepends; i++)
			free(vm->vm_depends[i]);
		for (i = 0; i < vm->vm_nenv; i++) {
			free(vm->vm_env[i].ev_name);
			free(vm->vm_env[i].ev_value);
		}
		free(vm->vm_name);
		free(vm->vm_srcfile);
		free(vm->vm_image);
		free(vm->vm_disk);
		free(vm->vm_bootstrap_dir);
		free(vm->vm_verify);
		free(vm->vm_ssh_user);
		free(vm->vm_ssh_key);
		free(vm);
	}
	free(cf->cf_path);
	free(cf->cf_dir);
	free(cf->cf_project);
	free(cf->cf_statedir);
	free(cf);
}

/*
 * Search the working directory and then each of its parents for the
 * project file, the way a version control tool finds its checkout.
 * The path written to buf is canonical, so that every spelling of the
 * project's directory leads to the same state.
 */
int
config_find(char *buf, size_t len)
{
	char		 dir[PATH_MAX], path[PATH_MAX], *slash;
	struct stat	 st;
	int		 n;

	if (getcwd(dir, sizeof(dir)) == NULL)
		return (-1);
	for (;;) {
		n = snprintf(path, sizeof(path), "%s/%s",
		    strcmp(dir, "/") == 0 ? "" : dir, CONFIG_FILENAME);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			errno = ENAMETOOLONG;
			return (-1);
		}
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			break;
		if (strcmp(dir, "/") == 0) {
			errno = ENOENT;
			return (-1);
		}
		if ((slash = strrchr(dir, '/')) == dir)
			dir[1] = '\0';
		else
			*slash = '\0';
	}
	if (realpath(path, dir) == NULL)
		return (-1);
	if (strlcpy(buf, dir, len) >= len) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	return (0);
}

struct image *
config_image(const struct config *cf, const char *name)
{
	struct image	*img;

	TAILQ_FOREACH(img, &cf->cf_images, img_entry)
		if (strcmp(img->img_name, name) == 0)
			return (img);
	return (NULL);
}

struct vm *
config_vm(const struct config *cf, const char *name)
{
	struct vm	*vm;

	TAILQ_FOREACH(vm, &cf->cf_vms, vm_entry)
		if (strcmp(vm->vm_name, name) == 0)
			return (vm);
	return (NULL);
}

/*
 * Expand the declarations into instances, in the order of the file.
 * The caller frees *insts.  Instance i of a declaration moves each
 * host port up by i; the parser has made sure that the result fits
 * and collides with nothing.
 */
int
config_instances(const struct config *cf, struct instance **insts,
    size_t *ninsts)
{
	struct instance	*in, *all;
	struct vm	*vm;
	size_t		 n = 0;
	uint32_t	 i;
	int		 f, len;

	TAILQ_FOREACH(vm, &cf->cf_vms, vm_entry)
		n += vm->vm_count;
	if ((all = calloc(n == 0 ? 1 : n, sizeof(*all))) == NULL)
		return (-1);
	in = all;
	TAILQ_FOREACH(vm, &cf->cf_vms, vm_entry) {
		for (i = 0; i < vm->vm_count; i++, in++) {
			if (vm->vm_count == 1)
				len = snprintf(in->in_name,
				    sizeof(in->in_name), "%s", vm->vm_name);
			else
				len = snprintf(in->in_name,
				    sizeof(in->in_name), "%s-%u",
				    vm->vm_name, i);
			if (len < 0 || (size_t)len >= sizeof(in->in_name))
				goto fail;
			in->in_vm = vm;
			in->in_index = i;
			in->in_nforwards = vm->vm_nforwards;
			for (f = 0; f < vm->vm_nforwards; f++) {
				in->in_forwards[f] = vm->vm_forwards[f];
				if (vm->vm_forwards[f].fw_host + i > UINT16_MAX)
					goto fail;
				in->in_forwards[f].fw_host += i;
			}
		}
	}
	*insts = all;
	*ninsts = n;
	return (0);

 fail:
	free(all);
	errno = EINVAL;
	return (-1);
}

/*
 * Why a project, image or VM name is not acceptable, or NULL.  Names
 * become file names and QEMU arguments, hence the narrow alphabet.
 */
const char *
config_name_error(const char *name)
{
	const char	*p;

	if (*name == '\0')
		return ("name is empty");
	if (strlen(name) > CONFIG_NAME_MAX)
		return ("name is longer than 63 characters");
	if (!isalnum((unsigned char)*name))
		return ("name must begin with a letter or a digit");
	for (p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' &&
		    *p != '-')
			return ("name may hold only letters, digits, "
			    "'_', '.' and '-'");
	return (NULL);
}

const char *
config_proto_name(int proto)
{
	return (proto == FORWARD_UDP ? "udp" : "tcp");
}

const char *
config_bootstrap_name(enum bootstrap_mode mode)
{
	switch (mode) {
	case BOOTSTRAP_SKIP:
		return ("skip");
	case BOOTSTRAP_ALWAYS:
		return ("always");
	default:
		return ("auto");
	}
}
