/*
 * Print a parsed configuration in the form castra.conf(5) reads: every
 * macro expanded, every default written out, every path absolute.  The
 * output parses again to the same configuration, which is what
 * `castra check` shows and what the regress tests compare.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <stdio.h>

#include "config.h"

static void	 print_string(FILE *, const char *);
static void	 print_artifact(FILE *, const struct artifact *,
		    const char *);
static void	 print_memory(FILE *, uint32_t);
static void	 print_image(FILE *, const struct image *);
static void	 print_forward(FILE *, const struct forward *);
static void	 print_vm(FILE *, const struct vm *);

/* Quoted, with the two characters that the lexer unquotes escaped. */
static void
print_string(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
}

static void
print_artifact(FILE *fp, const struct artifact *a, const char *indent)
{
	int	 i;

	for (i = 0; i < a->a_nurls; i++) {
		fprintf(fp, "%surl ", indent);
		print_string(fp, a->a_urls[i]);
		fputc('\n', fp);
	}
	if (a->a_sha256[0] != '\0')
		fprintf(fp, "%ssha256 \"%s\"\n", indent, a->a_sha256);
	if (a->a_sha512[0] != '\0')
		fprintf(fp, "%ssha512 \"%s\"\n", indent, a->a_sha512);
	if (a->a_size != 0)
		fprintf(fp, "%ssize %llu\n", indent,
		    (unsigned long long)a->a_size);
}

/* In the largest unit that says it exactly. */
static void
print_memory(FILE *fp, uint32_t mib)
{
	if (mib % (1024 * 1024) == 0)
		fprintf(fp, "%uT", mib / (1024 * 1024));
	else if (mib % 1024 == 0)
		fprintf(fp, "%uG", mib / 1024);
	else
		fprintf(fp, "%uM", mib);
}

static void
print_image(FILE *fp, const struct image *img)
{
	fputs("image ", fp);
	print_string(fp, img->img_name);
	fputs(" {\n", fp);
	print_artifact(fp, &img->img_disk, "\t");
	if (img->img_kernel.a_nurls > 0) {
		fputs("\tkernel {\n", fp);
		print_artifact(fp, &img->img_kernel, "\t\t");
		fputs("\t}\n", fp);
	}
	if (img->img_initrd.a_nurls > 0) {
		fputs("\tinitrd {\n", fp);
		print_artifact(fp, &img->img_initrd, "\t\t");
		fputs("\t}\n", fp);
	}
	if (img->img_cmdline != NULL) {
		fputs("\tcmdline ", fp);
		print_string(fp, img->img_cmdline);
		fputc('\n', fp);
	}
	fputs("}\n", fp);
}

static void
print_forward(FILE *fp, const struct forward *fw)
{
	fprintf(fp, "\tforward %s %u to %u bind \"%s\"\n",
	    config_proto_name(fw->fw_proto), fw->fw_host, fw->fw_guest,
	    fw->fw_bind);
}

static void
print_vm(FILE *fp, const struct vm *vm)
{
	int	 i;

	fputs("vm ", fp);
	print_string(fp, vm->vm_name);
	fputs(" {\n", fp);
	if (vm->vm_image != NULL) {
		fputs("\timage ", fp);
		print_string(fp, vm->vm_image);
		fputc('\n', fp);
	}
	if (vm->vm_disk != NULL) {
		fputs("\tdisk ", fp);
		print_string(fp, vm->vm_disk);
		fputc('\n', fp);
	}
	fprintf(fp, "\tcpus %u\n\tmemory ", vm->vm_cpus);
	print_memory(fp, vm->vm_memory_mib);
	fprintf(fp, "\n\tcount %u\n", vm->vm_count);
	for (i = 0; i < vm->vm_nforwards; i++)
		print_forward(fp, &vm->vm_forwards[i]);
	fprintf(fp, "\tbootstrap %s timeout %us",
	    config_bootstrap_name(vm->vm_bootstrap),
	    vm->vm_bootstrap_timeout);
	if (vm->vm_bootstrap_dir != NULL) {
		fputs(" dir ", fp);
		print_string(fp, vm->vm_bootstrap_dir);
	}
	if (vm->vm_verify != NULL) {
		fputs(" verify ", fp);
		print_string(fp, vm->vm_verify);
	}
	if (vm->vm_ssh) {
		fputs(" ssh", fp);
		if (vm->vm_ssh_user != NULL) {
			fputs(" user ", fp);
			print_string(fp, vm->vm_ssh_user);
		}
		if (vm->vm_ssh_port != 0)
			fprintf(fp, " port %u", vm->vm_ssh_port);
		if (vm->vm_ssh_key != NULL) {
			fputs(" key ", fp);
			print_string(fp, vm->vm_ssh_key);
		}
	}
	fputc('\n', fp);
	for (i = 0; i < vm->vm_nenv; i++) {
		fputs("\tenv ", fp);
		print_string(fp, vm->vm_env[i].ev_name);
		fputc(' ', fp);
		print_string(fp, vm->vm_env[i].ev_value);
		fputc('\n', fp);
	}
	for (i = 0; i < vm->vm_ndepends; i++) {
		fputs("\tdepends ", fp);
		print_string(fp, vm->vm_depends[i]);
		fputc('\n', fp);
	}
	fputs("}\n", fp);
}

void
config_print(FILE *fp, const struct config *cf)
{
	const struct image	*img;
	const struct vm		*vm;

	fputs("project ", fp);
	print_string(fp, cf->cf_project);
	fputc('\n', fp);
	if (cf->cf_statedir != NULL) {
		fputs("state ", fp);
		print_string(fp, cf->cf_statedir);
		fputc('\n', fp);
	}
	fprintf(fp, "broker port %u\n", cf->cf_broker_port);
	fprintf(fp, "wait graceful %us sigterm %us sigkill %us\n",
	    cf->cf_wait_graceful, cf->cf_wait_sigterm, cf->cf_wait_sigkill);
	TAILQ_FOREACH(img, &cf->cf_images, img_entry) {
		fputc('\n', fp);
		print_image(fp, img);
	}
	TAILQ_FOREACH(vm, &cf->cf_vms, vm_entry) {
		fputc('\n', fp);
		print_vm(fp, vm);
	}
}
