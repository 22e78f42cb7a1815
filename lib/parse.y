/*
 * castra.conf(5): the grammar of a project file, its lexer, and the
 * checks that need the whole file.  Every error is collected as a
 * "file:line: message" line and parsing goes on at the next statement,
 * so that one run shows all of them; the library itself never prints.
 */

%{
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#define PARSE_INCLUDE_DEPTH	16
#define PARSE_TOKEN_MAX		8192
#define PARSE_UNGET_MAX		8
#define PARSE_MACRO_MAX		63
#define PARSE_ERRORS_MAX	1000
#define CONTROL_CHARS		"\001\002\003\004\005\006\007\010\012" \
				"\013\014\015\016\017\020\021\022\023\024" \
				"\025\026\027\030\031\032\033\034\035\036" \
				"\037\177"

struct file {
	TAILQ_ENTRY(file)	 f_entry;
	FILE			*f_stream;
	char			*f_name;	/* as spelled, for messages */
	char			*f_dir;		/* canonical, for paths */
	int			 f_lineno;
	int			 f_lastnl;	/* last token was '\n' */
	int			 f_lastline;	/* of the last token */
	int			 f_pendnl;	/* a '\n' to give first */
	int			 f_eof;
	int			 f_unget[PARSE_UNGET_MAX];
	int			 f_nunget;
	char			*f_expand;	/* macro being read */
	size_t			 f_expandpos;
};
TAILQ_HEAD(filelist, file);

struct sym {
	TAILQ_ENTRY(sym)	 sym_entry;
	char			*sym_name;
	char			*sym_value;
	int			 sym_persist;	/* from -D: the file can't
						   change it */
};
TAILQ_HEAD(symlist, sym);

/* The state of one parse; yacc parsers are not reentrant anyway. */
static struct {
	struct filelist		 files;		/* the include stack */
	struct symlist		 syms;
	struct file		*file;
	struct file		*top;
	struct config		*conf;
	FILE			*errs;
	int			 nerrors;
	int			 lexerr;	/* the lexer said why */
	int			 lastline;	/* of the last token */
	int			 inmemory;	/* no includes */
	int			 nomem;
	struct image		*image;		/* block being parsed */
	struct artifact		*art;
	int			 kernel;	/* kernel block seen */
	int			 initrd;
	struct vm		*vm;
} ps;

static int	 yylex(void);
static int	 yyparse(void);
static void	 yyerror(const char *);
static void	 perr(int, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static void	 perr_at(const char *, int, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static void	 perr_raw(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
static int	 kw_cmp(const void *, const void *);
static int	 lookup(const char *);
static int	 lgetc(int);
static void	 lungetc(int);
static int	 lex_error(void);
static int	 lex_quoted(char *, size_t);
static int	 lex_macro(void);
static int	 lex_word(int, char *, size_t);
static int	 in_word(int);
static char	*xstrdup(const char *);
static void	 path_clean(char *);
static char	*path_join(const char *, const char *);
static char	*path_dir(const char *);
static char	*file_dir(const char *);
static struct file *pushfile(const char *, const char *, FILE *);
static int	 popfile(void);
static void	 file_free(struct file *);
static void	 include_file(int, char *);
static const char *macro_name_error(const char *);
static int	 symset(const char *, const char *, int);
static const char *symget(const char *);
static int	 cmdline_symset(const char *);
static int	 parse_scaled(const char *, const char *, uint64_t *);
static int	 parse_duration(int, const char *, int64_t, const char *,
		    uint32_t, uint32_t *);
static int	 parse_memory(int, int64_t, const char *, uint32_t *);
static int	 parse_port(int, int64_t, const char *, uint16_t *);
static int	 parse_hex(int, const char *, size_t, char *);
static int	 parse_bind(int, const char *, char *, size_t);
static void	 set_name(int, char **, char *, const char *);
static void	 set_path(int, char **, char *, const char *);
static void	 image_begin(int, char *);
static void	 image_end(void);
static void	 artifact_url(int, char *);
static void	 vm_begin(int, char *);
static void	 vm_end(void);
static void	 vm_forward(int, int, int64_t, int64_t, char *);
static void	 vm_env(int, char *, char *);
static void	 vm_depends(int, char *);
static void	 check_images(void);
static void	 check_depends(void);
static int	 bind_is_any(const char *);
static int	 forwards_collide(const struct forward *,
		    const struct forward *);
static const char *forward_str(const struct forward *, char *, size_t);
static void	 check_forwards(struct instance *, size_t);
static void	 check_instances(void);
static void	 conf_check(void);
static struct config *conf_new(const char *, const char *);
static void	 parse_cleanup(void);
static struct config *parse_stream(const char *, const char *,
		    const char *, FILE *, int, char *const *, char **);

typedef struct {
	union {
		int64_t		 number;
		char		*string;
	} v;
	int			 lineno;
} YYSTYPE;
#define YYSTYPE_IS_DECLARED 1

static const char *token_str(int, const YYSTYPE *);

%}

%token	ALWAYS AUTO BIND BOOTSTRAP BROKER CMDLINE COUNT CPUS DEPENDS DIR
%token	DISK ENV FORWARD GRACEFUL IMAGE INCLUDE INITRD KERNEL KEY MEMORY PORT
%token	PROJECT SHA256 SHA512 SIGKILL SIGTERM SIZE SKIP SSH STATE TCP TIMEOUT
%token	TO UDP URL USER VERIFY VM WAIT
%token	ERROR
%token	<v.string>	STRING
%token	<v.number>	NUMBER
%type	<v.number>	proto
%type	<v.string>	bind
%destructor	{ free($$); }	STRING bind
%%

grammar		: /* empty */
		| grammar '\n'
		| grammar include '\n'
		| grammar varset '\n'
		| grammar main '\n'
		| grammar imagedecl '\n'
		| grammar vmdecl '\n'
		| grammar error '\n'		{ yyerrok; }
		;

include		: INCLUDE STRING		{
			include_file($<lineno>1, $2);
		}
		;

varset		: STRING '=' STRING {
			const char	*why;

			if ((why = macro_name_error($1)) != NULL)
				perr($<lineno>1, "macro \"%s\": %s", $1,
				    why);
			else if (symset($1, $3, 0) == -1)
				ps.nomem = 1;
			free($1);
			free($3);
		}
		| STRING '=' NUMBER {
			const char	*why;
			char		 val[32];

			snprintf(val, sizeof(val), "%lld", (long long)$3);
			if ((why = macro_name_error($1)) != NULL)
				perr($<lineno>1, "macro \"%s\": %s", $1,
				    why);
			else if (symset($1, val, 0) == -1)
				ps.nomem = 1;
			free($1);
		}
		;

main		: PROJECT STRING {
			if (ps.conf->cf_project != NULL)
				perr($<lineno>1, "project name given twice");
			set_name($<lineno>2, &ps.conf->cf_project, $2,
			    "project");
		}
		| STATE STRING {
			set_path($<lineno>2, &ps.conf->cf_statedir, $2,
			    "state");
		}
		| BROKER PORT NUMBER {
			parse_port($<lineno>3, $3, "broker port",
			    &ps.conf->cf_broker_port);
		}
		| BROKER PORT STRING {
			perr($<lineno>3, "broker port \"%s\": not a number",
			    $3);
			free($3);
		}
		| WAIT waitopts
		;

waitopts	: waitopt
		| waitopts waitopt
		;

waitopt		: GRACEFUL NUMBER {
			parse_duration($<lineno>2, "wait graceful", $2, NULL,
			    CONFIG_WAIT_MAX, &ps.conf->cf_wait_graceful);
		}
		| GRACEFUL STRING {
			parse_duration($<lineno>2, "wait graceful", 0, $2,
			    CONFIG_WAIT_MAX, &ps.conf->cf_wait_graceful);
			free($2);
		}
		| SIGTERM NUMBER {
			parse_duration($<lineno>2, "wait sigterm", $2, NULL,
			    CONFIG_WAIT_MAX, &ps.conf->cf_wait_sigterm);
		}
		| SIGTERM STRING {
			parse_duration($<lineno>2, "wait sigterm", 0, $2,
			    CONFIG_WAIT_MAX, &ps.conf->cf_wait_sigterm);
			free($2);
		}
		| SIGKILL NUMBER {
			parse_duration($<lineno>2, "wait sigkill", $2, NULL,
			    CONFIG_WAIT_MAX, &ps.conf->cf_wait_sigkill);
		}
		| SIGKILL STRING {
			parse_duration($<lineno>2, "wait sigkill", 0, $2,
			    CONFIG_WAIT_MAX, &ps.conf->cf_wait_sigkill);
			free($2);
		}
		;

optnl		: /* empty */
		| optnl '\n'
		;

/*
 * A block ends at its brace even after an error on its last line, so
 * that one mistake does not spill into the statements after it.
 */
imagedecl	: imagehead optnl '{' imageopts '}'	{ image_end(); }
		| imagehead optnl '{' imageopts error '}' {
			yyerrok;
			image_end();
		}
		;

imagehead	: IMAGE STRING			{ image_begin($<lineno>2, $2); }
		;

/* Options end at a newline or at the next option, as the user likes. */
imageopts	: /* empty */
		| imageopts '\n'
		| imageopts imageopt
		| imageopts error '\n'		{ yyerrok; }
		;

imageopt	: artopt
		| kernelhead artblock	{ ps.art = &ps.image->img_disk; }
		| initrdhead artblock	{ ps.art = &ps.image->img_disk; }
		| CMDLINE STRING {
			if (strlen($2) > CONFIG_CMDLINE_MAX) {
				perr($<lineno>2, "cmdline is longer than %d "
				    "characters", CONFIG_CMDLINE_MAX);
				free($2);
			} else {
				free(ps.image->img_cmdline);
				ps.image->img_cmdline = $2;
			}
		}
		;

kernelhead	: KERNEL {
			ps.art = &ps.image->img_kernel;
			ps.kernel = 1;
		}
		;

initrdhead	: INITRD {
			ps.art = &ps.image->img_initrd;
			ps.initrd = 1;
		}
		;

artblock	: optnl '{' artopts '}'
		| optnl '{' artopts error '}'	{ yyerrok; }
		;

artopts		: /* empty */
		| artopts '\n'
		| artopts artopt
		| artopts error '\n'		{ yyerrok; }
		;

artopt		: URL STRING			{
			artifact_url($<lineno>2, $2);
		}
		| SHA256 STRING {
			parse_hex($<lineno>2, $2, SHA256_HEX_LEN,
			    ps.art->a_sha256);
			free($2);
		}
		| SHA512 STRING {
			parse_hex($<lineno>2, $2, SHA512_HEX_LEN,
			    ps.art->a_sha512);
			free($2);
		}
		| SIZE NUMBER {
			if ($2 <= 0)
				perr($<lineno>2, "size must be positive");
			else
				ps.art->a_size = $2;
		}
		| SIZE STRING {
			uint64_t	 n;

			if (parse_scaled($2, "KMGT", &n) == -1)
				perr($<lineno>2, "size \"%s\": %s", $2,
				    errno == ERANGE ? "too large" :
				    "use a number of bytes, or K, M, G or T "
				    "after it");
			else if (n == 0)
				perr($<lineno>2, "size must be positive");
			else
				ps.art->a_size = n;
			free($2);
		}
		;

vmdecl		: vmhead optnl '{' vmopts '}'	{ vm_end(); }
		| vmhead optnl '{' vmopts error '}' {
			yyerrok;
			vm_end();
		}
		;

vmhead		: VM STRING			{ vm_begin($<lineno>2, $2); }
		;

vmopts		: /* empty */
		| vmopts '\n'
		| vmopts vmopt
		| vmopts error '\n'		{ yyerrok; }
		;

vmopt		: IMAGE STRING {
			set_name($<lineno>2, &ps.vm->vm_image, $2, "image");
		}
		| DISK STRING {
			set_path($<lineno>2, &ps.vm->vm_disk, $2, "disk");
		}
		| CPUS NUMBER {
			if ($2 < 1 || $2 > CONFIG_CPUS_MAX)
				perr($<lineno>2, "cpus must be between 1 and "
				    "%d", CONFIG_CPUS_MAX);
			else
				ps.vm->vm_cpus = $2;
		}
		| MEMORY NUMBER {
			parse_memory($<lineno>2, $2, NULL,
			    &ps.vm->vm_memory_mib);
		}
		| MEMORY STRING {
			parse_memory($<lineno>2, 0, $2,
			    &ps.vm->vm_memory_mib);
			free($2);
		}
		| COUNT NUMBER {
			if ($2 < 1 || $2 > CONFIG_COUNT_MAX)
				perr($<lineno>2, "count must be between 1 and "
				    "%d", CONFIG_COUNT_MAX);
			else
				ps.vm->vm_count = $2;
		}
		| FORWARD proto NUMBER TO NUMBER bind {
			vm_forward($<lineno>1, $2, $3, $5, $6);
		}
		| BOOTSTRAP bootopts
		| ENV STRING STRING		{ vm_env($<lineno>2, $2, $3); }
		| DEPENDS STRING		{ vm_depends($<lineno>2, $2); }
		;

proto		: /* empty */			{ $$ = FORWARD_TCP; }
		| TCP				{ $$ = FORWARD_TCP; }
		| UDP				{ $$ = FORWARD_UDP; }
		;

bind		: /* empty */			{ $$ = NULL; }
		| BIND STRING			{ $$ = $2; }
		;

bootopts	: bootopt
		| bootopts bootopt
		;

bootopt		: AUTO		{ ps.vm->vm_bootstrap = BOOTSTRAP_AUTO; }
		| SKIP		{ ps.vm->vm_bootstrap = BOOTSTRAP_SKIP; }
		| ALWAYS	{ ps.vm->vm_bootstrap = BOOTSTRAP_ALWAYS; }
		| DIR STRING {
			set_path($<lineno>2, &ps.vm->vm_bootstrap_dir, $2,
			    "bootstrap dir");
		}
		| TIMEOUT NUMBER {
			parse_duration($<lineno>2, "bootstrap timeout", $2,
			    NULL, CONFIG_BOOTSTRAP_TIMEOUT_MAX,
			    &ps.vm->vm_bootstrap_timeout);
		}
		| TIMEOUT STRING {
			parse_duration($<lineno>2, "bootstrap timeout", 0, $2,
			    CONFIG_BOOTSTRAP_TIMEOUT_MAX,
			    &ps.vm->vm_bootstrap_timeout);
			free($2);
		}
		| SSH sshopts			{ ps.vm->vm_ssh = 1; }
		| VERIFY STRING {
			if (*$2 == '\0') {
				perr($<lineno>2, "verify command is empty");
				free($2);
			} else {
				free(ps.vm->vm_verify);
				ps.vm->vm_verify = $2;
			}
		}
		;

sshopts		: /* empty */
		| sshopts sshopt
		;

sshopt		: USER STRING {
			if (*$2 == '\0' || strchr($2, '@') != NULL ||
			    *$2 == '-' || strpbrk($2, " \t\n") != NULL) {
				perr($<lineno>2, "bad ssh user \"%s\"", $2);
				free($2);
			} else {
				free(ps.vm->vm_ssh_user);
				ps.vm->vm_ssh_user = $2;
			}
		}
		| PORT NUMBER {
			if ($2 < 1 || $2 > 65535)
				perr($<lineno>2, "ssh port must be between 1 "
				    "and 65535");
			else
				ps.vm->vm_ssh_port = $2;
		}
		| KEY STRING {
			set_path($<lineno>2, &ps.vm->vm_ssh_key, $2,
			    "ssh key");
		}
		;

%%

struct keyword {
	const char	*k_name;
	int		 k_val;
};

/* Sorted, for bsearch. */
static const struct keyword keywords[] = {
	{ "always",	ALWAYS },
	{ "auto",	AUTO },
	{ "bind",	BIND },
	{ "bootstrap",	BOOTSTRAP },
	{ "broker",	BROKER },
	{ "cmdline",	CMDLINE },
	{ "count",	COUNT },
	{ "cpus",	CPUS },
	{ "depends",	DEPENDS },
	{ "dir",	DIR },
	{ "disk",	DISK },
	{ "env",	ENV },
	{ "forward",	FORWARD },
	{ "graceful",	GRACEFUL },
	{ "image",	IMAGE },
	{ "include",	INCLUDE },
	{ "initrd",	INITRD },
	{ "kernel",	KERNEL },
	{ "key",	KEY },
	{ "memory",	MEMORY },
	{ "port",	PORT },
	{ "project",	PROJECT },
	{ "sha256",	SHA256 },
	{ "sha512",	SHA512 },
	{ "sigkill",	SIGKILL },
	{ "sigterm",	SIGTERM },
	{ "size",	SIZE },
	{ "skip",	SKIP },
	{ "ssh",	SSH },
	{ "state",	STATE },
	{ "tcp",	TCP },
	{ "timeout",	TIMEOUT },
	{ "to",		TO },
	{ "udp",	UDP },
	{ "url",	URL },
	{ "user",	USER },
	{ "verify",	VERIFY },
	{ "vm",		VM },
	{ "wait",	WAIT },
};

static int
kw_cmp(const void *k, const void *e)
{
	return (strcmp(k, ((const struct keyword *)e)->k_name));
}

static int
lookup(const char *s)
{
	const struct keyword	*kw;

	kw = bsearch(s, keywords, sizeof(keywords) / sizeof(keywords[0]),
	    sizeof(keywords[0]), kw_cmp);
	return (kw != NULL ? kw->k_val : STRING);
}

/* Errors */

/* Where the parser stopped, for its message. */
static const char *
token_str(int tok, const YYSTYPE *val)
{
	static char	 buf[64];
	size_t		 i;

	switch (tok) {
	case 0:
		return ("at the end of the file");
	case '\n':
		return ("at the end of the line");
	case STRING:
		snprintf(buf, sizeof(buf), "at \"%.40s%s\"", val->v.string,
		    strlen(val->v.string) > 40 ? "..." : "");
		return (buf);
	case NUMBER:
		snprintf(buf, sizeof(buf), "at %lld",
		    (long long)val->v.number);
		return (buf);
	}
	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (keywords[i].k_val == tok) {
			snprintf(buf, sizeof(buf), "at %s",
			    keywords[i].k_name);
			return (buf);
		}
	if (tok > 0 && tok < 128 && isprint(tok)) {
		snprintf(buf, sizeof(buf), "at '%c'", tok);
		return (buf);
	}
	return ("here");
}

static void
perr_at(const char *file, int line, const char *fmt, ...)
{
	va_list	 ap;

	if (++ps.nerrors > PARSE_ERRORS_MAX)
		return;
	if (ps.nerrors == PARSE_ERRORS_MAX) {
		fprintf(ps.errs, "%s:%d: too many errors\n", file, line);
		return;
	}
	fprintf(ps.errs, "%s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(ps.errs, fmt, ap);
	va_end(ap);
	fputc('\n', ps.errs);
}

/* An error of the command line, which has no file or line. */
static void
perr_raw(const char *fmt, ...)
{
	va_list	 ap;

	ps.nerrors++;
	va_start(ap, fmt);
	vfprintf(ps.errs, fmt, ap);
	va_end(ap);
	fputc('\n', ps.errs);
}

/* An error at a line of the file being read. */
static void
perr(int line, const char *fmt, ...)
{
	char	 msg[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	perr_at(ps.file->f_name, line, "%s", msg);
}

/*
 * Called by the parser alone.  A token that the lexer already refused
 * has had its message; the parser's own would only repeat it.
 */
static void
yyerror(const char *msg)
{
	if (ps.lexerr) {
		ps.lexerr = 0;
		return;
	}
	perr(ps.lastline, "%s %s", msg, token_str(yychar, &yylval));
}

/* Lexer */

/*
 * One byte of input: pushed back bytes first, then the macro being
 * expanded, then the file.  A backslash before a newline joins lines
 * outside quotes.
 */
static int
lgetc(int quoted)
{
	struct file	*f = ps.file;
	int		 c, next;

	if (f->f_nunget > 0)
		return (f->f_unget[--f->f_nunget]);
	if (f->f_expand != NULL) {
		c = (unsigned char)f->f_expand[f->f_expandpos++];
		if (c != '\0')
			return (c);
		free(f->f_expand);
		f->f_expand = NULL;
	}
	if (f->f_eof)
		return (EOF);
	if ((c = getc(f->f_stream)) == EOF) {
		f->f_eof = 1;
		return (EOF);
	}
	if (c == '\\' && !quoted) {
		next = getc(f->f_stream);
		if (next == '\n') {
			f->f_lineno++;
			return (' ');
		}
		if (next != EOF)
			ungetc(next, f->f_stream);
	}
	return (c);
}

static void
lungetc(int c)
{
	struct file	*f = ps.file;

	if (c == EOF)
		return;
	if (f->f_nunget < PARSE_UNGET_MAX)
		f->f_unget[f->f_nunget++] = c;
}

/*
 * A bad token: the lexer has said why, and the parser, which skips to
 * the end of the statement, need not say it again.
 */
static int
lex_error(void)
{
	ps.lexerr = 1;
	return (ERROR);
}

static int
in_word(int c)
{
	if (isascii(c) && isalnum(c))
		return (1);
	return (c != EOF && strchr("_-.:/+@%,", c) != NULL && c != '\0');
}

/* A bad string is still read to its end, so its rest is no token. */
static int
lex_quoted(char *buf, size_t len)
{
	size_t	 n = 0;
	int	 c, next, bad = 0;

	for (;;) {
		if ((c = lgetc(1)) == EOF || c == '\n') {
			perr(yylval.lineno, "unterminated quoted string");
			lungetc(c);
			return (lex_error());
		}
		if (c == '"')
			break;
		if (c == '\\') {
			next = lgetc(1);
			if (next == '"' || next == '\\')
				c = next;
			else if (next == '\n') {
				ps.file->f_lineno++;
				continue;
			} else
				lungetc(next);
		}
		if (bad)
			continue;
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			perr(yylval.lineno, "invalid character 0x%02x in "
			    "quoted string", c);
			bad = 1;
		} else if (n + 1 >= len) {
			perr(yylval.lineno, "string too long");
			bad = 1;
		} else
			buf[n++] = c;
	}
	if (bad)
		return (lex_error());
	buf[n] = '\0';
	if ((yylval.v.string = strdup(buf)) == NULL) {
		ps.nomem = 1;
		return (ERROR);
	}
	return (STRING);
}

/* $name outside quotes: read the name and expand it in place. */
static int
lex_macro(void)
{
	char		 name[PARSE_MACRO_MAX + 1];
	const char	*val;
	size_t		 n = 0;
	int		 c;

	while ((c = lgetc(0)) != EOF && isascii(c) &&
	    (isalnum(c) || c == '_')) {
		if (n + 1 >= sizeof(name)) {
			perr(yylval.lineno, "macro name too long");
			while ((c = lgetc(0)) != EOF && isascii(c) &&
			    (isalnum(c) || c == '_'))
				;
			lungetc(c);
			return (lex_error());
		}
		name[n++] = c;
	}
	name[n] = '\0';
	if (n == 0) {
		perr(yylval.lineno, "'$' without a macro name");
		lungetc(c);
		return (lex_error());
	}
	if ((val = symget(name)) == NULL) {
		perr(yylval.lineno, "macro \"%s\" not defined", name);
		lungetc(c);
		return (lex_error());
	}
	/* The byte that ended the name comes after the value. */
	if (asprintf(&ps.file->f_expand, "%s%c", val,
	    c == EOF ? '\0' : c) == -1) {
		ps.file->f_expand = NULL;
		ps.nomem = 1;
		return (ERROR);
	}
	ps.file->f_expandpos = 0;
	return (0);
}

static int
lex_word(int c, char *buf, size_t len)
{
	const char	*errstr;
	size_t		 n = 0;
	int		 number = 1;

	do {
		if (n + 1 >= len) {
			perr(yylval.lineno, "word too long");
			while (in_word(c = lgetc(0)))
				;
			lungetc(c);
			return (lex_error());
		}
		if (!(isascii(c) && isdigit(c)) && !(n == 0 && c == '-'))
			number = 0;
		buf[n++] = c;
	} while (in_word(c = lgetc(0)));
	lungetc(c);
	buf[n] = '\0';

	if (number && !(n == 1 && buf[0] == '-')) {
		yylval.v.number = strtonum(buf, LLONG_MIN, LLONG_MAX,
		    &errstr);
		if (errstr != NULL) {
			perr(yylval.lineno, "number %s is %s", buf, errstr);
			return (lex_error());
		}
		return (NUMBER);
	}
	if ((c = lookup(buf)) != STRING)
		return (c);
	if ((yylval.v.string = strdup(buf)) == NULL) {
		ps.nomem = 1;
		return (ERROR);
	}
	return (STRING);
}

static int
yylex(void)
{
	static char	 buf[PARSE_TOKEN_MAX];
	struct file	*f;
	int		 c, tok;

 top:
	/* Out of memory: end the input, the parse is lost anyway. */
	if (ps.nomem)
		return (0);
	ps.lexerr = 0;
	f = ps.file;
	if (f->f_pendnl) {
		f->f_pendnl = 0;
		yylval.lineno = f->f_lineno;
		return ('\n');
	}
	while ((c = lgetc(0)) == ' ' || c == '\t')
		;
	yylval.lineno = f->f_lineno;
	ps.lastline = f->f_lineno;
	if (c != EOF)
		f->f_lastline = f->f_lineno;
	if (c == '#') {
		while ((c = lgetc(0)) != '\n' && c != EOF)
			;
	}
	if (c == '$' && f->f_expand == NULL) {
		if ((tok = lex_macro()) != 0)
			return (tok);
		goto top;
	}
	if (c == '$') {
		perr(yylval.lineno, "a macro may not use another macro");
		return (lex_error());
	}

	switch (c) {
	case EOF:
		ps.lastline = f->f_lastline;
		/* Every file ends a statement, with or without '\n'. */
		if (!f->f_lastnl) {
			f->f_lastnl = 1;
			return ('\n');
		}
		if (popfile() == EOF)
			return (0);
		goto top;
	case '\n':
		f->f_lineno++;
		f->f_lastnl = 1;
		return ('\n');
	case '{':
	case '}':
	case '=':
		tok = c;
		break;
	case '"':
		tok = lex_quoted(buf, sizeof(buf));
		break;
	default:
		if (in_word(c))
			tok = lex_word(c, buf, sizeof(buf));
		else {
			if (isascii(c) && isprint(c))
				perr(yylval.lineno, "unexpected character "
				    "'%c'", c);
			else
				perr(yylval.lineno, "unexpected character "
				    "0x%02x", c);
			tok = lex_error();
		}
		break;
	}
	f->f_lastnl = 0;
	return (tok);
}

/* Files */

static char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		ps.nomem = 1;
	return (p);
}

/*
 * Drop ".", "..", and repeated slashes from an absolute path without
 * asking the filesystem: the file it names need not exist yet.
 */
static void
path_clean(char *path)
{
	char	*r = path, *w = path;

	while (*r != '\0') {
		while (*r == '/')
			r++;
		if (r[0] == '.' && (r[1] == '/' || r[1] == '\0'))
			r++;
		else if (r[0] == '.' && r[1] == '.' &&
		    (r[2] == '/' || r[2] == '\0')) {
			r += 2;
			while (w > path && *--w != '/')
				;
		} else if (*r != '\0') {
			*w++ = '/';
			while (*r != '\0' && *r != '/')
				*w++ = *r++;
		}
	}
	if (w == path)
		*w++ = '/';
	*w = '\0';
}

/* name made absolute against dir, which is absolute. */
static char *
path_join(const char *dir, const char *name)
{
	char	*p;

	if (*name == '/')
		p = xstrdup(name);
	else if (asprintf(&p, "%s/%s", dir, name) == -1) {
		ps.nomem = 1;
		p = NULL;
	}
	if (p != NULL && *p == '/')
		path_clean(p);
	return (p);
}

/* The canonical directory of an existing file. */
static char *
file_dir(const char *path)
{
	char	 real[PATH_MAX], *slash;

	if (realpath(path, real) == NULL)
		return (NULL);
	if ((slash = strrchr(real, '/')) == real)
		real[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	return (xstrdup(real));
}

static struct file *
pushfile(const char *name, const char *dir, FILE *stream)
{
	struct file	*f;

	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->f_name = strdup(name)) == NULL ||
	    (f->f_dir = strdup(dir)) == NULL) {
		if (f != NULL)
			free(f->f_name);
		free(f);
		ps.nomem = 1;
		return (NULL);
	}
	f->f_stream = stream;
	f->f_lineno = f->f_lastline = 1;
	f->f_lastnl = 1;
	TAILQ_INSERT_TAIL(&ps.files, f, f_entry);
	ps.file = f;
	return (f);
}

/* Back to the including file; EOF at the end of the first one. */
static int
popfile(void)
{
	struct file	*prev;

	if ((prev = TAILQ_PREV(ps.file, filelist, f_entry)) == NULL)
		return (EOF);
	TAILQ_REMOVE(&ps.files, ps.file, f_entry);
	file_free(ps.file);
	ps.file = prev;
	return (0);
}

static void
file_free(struct file *f)
{
	if (f->f_stream != NULL)
		fclose(f->f_stream);
	free(f->f_expand);
	free(f->f_name);
	free(f->f_dir);
	free(f);
}

/*
 * An include names a file relative to the file that includes it; its
 * name in messages is built the same way, so that it reads as the user
 * would type it.
 */
static void
include_file(int line, char *name)
{
	struct file	*f;
	struct stat	 st;
	FILE		*fp = NULL;
	char		*path = NULL, *dir = NULL, *slash;
	int		 depth = 0;

	TAILQ_FOREACH(f, &ps.files, f_entry)
		depth++;
	if (ps.inmemory) {
		perr(line, "include \"%s\": not possible in a configuration "
		    "read from memory", name);
		goto done;
	}
	if (depth > PARSE_INCLUDE_DEPTH) {
		perr(line, "include \"%s\": nested too deeply", name);
		goto done;
	}
	if (*name == '\0') {
		perr(line, "include: empty file name");
		goto done;
	}
	if (*name == '/' || (slash = strrchr(ps.file->f_name, '/')) == NULL)
		path = xstrdup(name);
	else if (asprintf(&path, "%.*s/%s", (int)(slash - ps.file->f_name),
	    ps.file->f_name, name) == -1) {
		ps.nomem = 1;
		path = NULL;
	}
	if (path == NULL)
		goto done;
	/* Never wait on a fifo or read a device. */
	if ((fp = fopen(path, "re")) == NULL ||
	    fstat(fileno(fp), &st) == -1) {
		perr(line, "include \"%s\": %s", path, strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		perr(line, "include \"%s\": not a regular file", path);
		goto done;
	}
	if ((dir = file_dir(path)) == NULL) {
		perr(line, "include \"%s\": %s", path, strerror(errno));
		goto done;
	}
	if (pushfile(path, dir, fp) == NULL)
		goto done;
	fp = NULL;
	/*
	 * The parser reduced the include without reading ahead, so the
	 * statement still needs its end of line.
	 */
	ps.file->f_pendnl = 1;
 done:
	if (fp != NULL)
		fclose(fp);
	free(dir);
	free(path);
	free(name);
}

/* Macros */

static const char *
macro_name_error(const char *name)
{
	const char	*p;

	if (*name == '\0')
		return ("name is empty");
	if (strlen(name) > PARSE_MACRO_MAX)
		return ("name is too long");
	for (p = name; *p != '\0'; p++)
		if (!isascii((unsigned char)*p) ||
		    !(isalnum((unsigned char)*p) || *p == '_'))
			return ("name may hold only letters, digits and "
			    "'_'");
	return (NULL);
}

static int
symset(const char *name, const char *value, int persist)
{
	struct sym	*sym;

	TAILQ_FOREACH(sym, &ps.syms, sym_entry)
		if (strcmp(sym->sym_name, name) == 0)
			break;
	if (sym != NULL) {
		if (sym->sym_persist)
			return (0);
		TAILQ_REMOVE(&ps.syms, sym, sym_entry);
		free(sym->sym_name);
		free(sym->sym_value);
		free(sym);
	}
	if ((sym = calloc(1, sizeof(*sym))) == NULL)
		return (-1);
	if ((sym->sym_name = strdup(name)) == NULL ||
	    (sym->sym_value = strdup(value)) == NULL) {
		free(sym->sym_name);
		free(sym);
		return (-1);
	}
	sym->sym_persist = persist;
	TAILQ_INSERT_TAIL(&ps.syms, sym, sym_entry);
	return (0);
}

static const char *
symget(const char *name)
{
	struct sym	*sym;

	TAILQ_FOREACH(sym, &ps.syms, sym_entry)
		if (strcmp(sym->sym_name, name) == 0)
			return (sym->sym_value);
	return (NULL);
}

/* -D name=value, which no assignment in the file can change. */
static int
cmdline_symset(const char *def)
{
	const char	*eq, *why;
	char		*name;
	int		 rv;

	if ((eq = strchr(def, '=')) == NULL) {
		perr_raw("-D %s: use -D name=value", def);
		return (0);
	}
	if ((name = strndup(def, eq - def)) == NULL)
		return (-1);
	if ((why = macro_name_error(name)) != NULL) {
		perr_raw("-D %s: %s", def, why);
		free(name);
		return (0);
	}
	rv = symset(name, eq + 1, 1);
	free(name);
	return (rv);
}

/* Values */

/*
 * A number with an optional binary unit from units, in bytes; -1 with
 * errno ERANGE when it is too large, EINVAL when it is no such thing.
 */
static int
parse_scaled(const char *s, const char *units, uint64_t *res)
{
	const char	*p, *u;
	uint64_t	 n = 0, scale = 1;
	int		 big = 0;

	errno = EINVAL;
	if (!isdigit((unsigned char)*s))
		return (-1);
	for (p = s; isdigit((unsigned char)*p); p++) {
		if (n > (UINT64_MAX - 9) / 10)
			big = 1;
		else
			n = n * 10 + (*p - '0');
	}
	if (*p != '\0') {
		if (p[1] != '\0' || *p == '\0' ||
		    (u = strchr(units, toupper((unsigned char)*p))) == NULL)
			return (-1);
		scale = (uint64_t)1 << (10 * (u - units + 1));
	}
	if (big || n > UINT64_MAX / scale) {
		errno = ERANGE;
		return (-1);
	}
	*res = n * scale;
	return (0);
}

/* Seconds: a plain number, or one followed by s, m or h. */
static int
parse_duration(int line, const char *what, int64_t num, const char *s,
    uint32_t max, uint32_t *res)
{
	const char	*p;
	uint64_t	 n = 0, mult = 1;

	if (s != NULL) {
		for (p = s; isdigit((unsigned char)*p); p++)
			if ((n = n * 10 + (*p - '0')) > UINT32_MAX)
				break;
		if (p == s || (p[0] != '\0' && p[1] != '\0') ||
		    n > UINT32_MAX || (*p != '\0' &&
		    *p != 's' && *p != 'm' && *p != 'h')) {
			perr(line, "%s \"%s\": use seconds, or a number "
			    "followed by s, m or h", what, s);
			return (-1);
		}
		mult = *p == 'm' ? 60 : *p == 'h' ? 3600 : 1;
		num = n * mult;
	}
	if (num < 1 || num > max) {
		perr(line, "%s must be between 1s and %us", what, max);
		return (-1);
	}
	*res = num;
	return (0);
}

/* A plain number is MiB; K, M, G and T say otherwise. */
static int
parse_memory(int line, int64_t num, const char *s, uint32_t *res)
{
	uint64_t	 bytes;

	if (s != NULL) {
		if (parse_scaled(s, "KMGT", &bytes) == -1) {
			if (errno == ERANGE)
				perr(line, "memory must be between %dM and 1T",
				    CONFIG_MEMORY_MIN_MIB);
			else
				perr(line, "memory \"%s\": use a number of "
				    "megabytes, or K, M, G or T after it", s);
			return (-1);
		}
		if (bytes % (1024 * 1024) != 0) {
			perr(line, "memory \"%s\": not a whole number of "
			    "megabytes", s);
			return (-1);
		}
		num = bytes / (1024 * 1024);
	}
	if (num < CONFIG_MEMORY_MIN_MIB || num > CONFIG_MEMORY_MAX_MIB) {
		perr(line, "memory must be between %dM and 1T",
		    CONFIG_MEMORY_MIN_MIB);
		return (-1);
	}
	*res = num;
	return (0);
}

static int
parse_port(int line, int64_t num, const char *what, uint16_t *res)
{
	if (num < 1 || num > UINT16_MAX) {
		perr(line, "%s must be between 1 and 65535", what);
		return (-1);
	}
	*res = num;
	return (0);
}

static int
parse_hex(int line, const char *s, size_t len, char *res)
{
	size_t	 i;

	if (strlen(s) != len) {
		perr(line, "sha%d must be %zu hexadecimal digits",
		    len == SHA256_HEX_LEN ? 256 : 512, len);
		return (-1);
	}
	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i])) {
			perr(line, "sha%d must be %zu hexadecimal digits",
			    len == SHA256_HEX_LEN ? 256 : 512, len);
			return (-1);
		}
	for (i = 0; i < len; i++)
		res[i] = tolower((unsigned char)s[i]);
	res[len] = '\0';
	return (0);
}

/* Takes name; a bad one is reported and dropped. */
static void
set_name(int line, char **dst, char *name, const char *what)
{
	const char	*why;

	if ((why = config_name_error(name)) != NULL) {
		perr(line, "%s \"%s\": %s", what, name, why);
		free(name);
		return;
	}
	free(*dst);
	*dst = name;
}

/* Takes path and stores it made absolute against the file's folder. */
static void
set_path(int line, char **dst, char *path, const char *what)
{
	char	*abs;

	if (*path == '\0')
		perr(line, "%s: empty path", what);
	else if (strlen(path) >= PATH_MAX)
		perr(line, "%s: path too long", what);
	else if ((abs = path_join(ps.file->f_dir, path)) != NULL) {
		if (strlen(abs) >= PATH_MAX) {
			perr(line, "%s: path too long", what);
			free(abs);
		} else if (strcspn(abs, CONTROL_CHARS) != strlen(abs)) {
			/* From the folder's name: it could not be printed. */
			perr(line, "%s \"%s\": a control character in the "
			    "path", what, path);
			free(abs);
		} else {
			free(*dst);
			*dst = abs;
		}
	}
	free(path);
}

/* Images */

/*
 * Out of memory, a block is parsed into a scratch object: the lexer
 * ends the input at once, so nothing is ever stored in it.
 */
static struct image	 scratch_image;
static struct vm	 scratch_vm;

static void
image_begin(int line, char *name)
{
	struct image	*img;
	const char	*why;

	if ((why = config_name_error(name)) != NULL)
		perr(line, "image \"%s\": %s", name, why);
	else if (config_image(ps.conf, name) != NULL)
		perr(line, "image \"%s\" defined twice", name);
	/* Even so, the block is parsed for the errors in it. */
	if ((img = calloc(1, sizeof(*img))) == NULL ||
	    (img->img_srcfile = strdup(ps.file->f_name)) == NULL) {
		free(img);
		free(name);
		ps.nomem = 1;
		memset(&scratch_image, 0, sizeof(scratch_image));
		img = &scratch_image;
	} else {
		img->img_name = name;
		img->img_line = line;
		TAILQ_INSERT_TAIL(&ps.conf->cf_images, img, img_entry);
	}
	ps.image = img;
	ps.art = &img->img_disk;
	ps.kernel = ps.initrd = 0;
}

static void
image_end(void)
{
	struct image	*img = ps.image;
	const char	*name = img->img_name != NULL ? img->img_name : "";

	if (img->img_disk.a_nurls == 0)
		perr(img->img_line, "image \"%s\" has no url", name);
	if (ps.kernel && img->img_kernel.a_nurls == 0)
		perr(img->img_line, "image \"%s\": kernel has no url", name);
	if (ps.initrd && img->img_initrd.a_nurls == 0)
		perr(img->img_line, "image \"%s\": initrd has no url", name);
	if (img->img_kernel.a_nurls == 0 &&
	    (img->img_initrd.a_nurls > 0 || img->img_cmdline != NULL))
		perr(img->img_line, "image \"%s\": initrd and cmdline need "
		    "a kernel", name);
	ps.image = NULL;
	ps.art = NULL;
}

static void
artifact_url(int line, char *url)
{
	struct artifact	*a = ps.art;

	if (strncmp(url, "http://", 7) != 0 &&
	    strncmp(url, "https://", 8) != 0 &&
	    strncmp(url, "file:///", 8) != 0)
		perr(line, "url \"%s\": use http://, https:// or file:///",
		    url);
	else if (strlen(url) > CONFIG_URL_MAX)
		perr(line, "url is longer than %d characters",
		    CONFIG_URL_MAX);
	else if (a->a_nurls >= CONFIG_URLS_MAX)
		perr(line, "more than %d urls", CONFIG_URLS_MAX);
	else {
		a->a_urls[a->a_nurls++] = url;
		return;
	}
	free(url);
}

/* VMs */

static void
vm_begin(int line, char *name)
{
	struct vm	*vm;
	const char	*why;

	if ((why = config_name_error(name)) != NULL)
		perr(line, "vm \"%s\": %s", name, why);
	else if (strcmp(name, CONFIG_RESERVED_VM) == 0)
		perr(line, "vm \"%s\": the name is reserved for the host",
		    name);
	else if (config_vm(ps.conf, name) != NULL)
		perr(line, "vm \"%s\" defined twice", name);
	if ((vm = calloc(1, sizeof(*vm))) == NULL ||
	    (vm->vm_srcfile = strdup(ps.file->f_name)) == NULL) {
		free(vm);
		free(name);
		ps.nomem = 1;
		memset(&scratch_vm, 0, sizeof(scratch_vm));
		ps.vm = &scratch_vm;
		return;
	}
	vm->vm_name = name;
	vm->vm_line = line;
	vm->vm_cpus = CONFIG_CPUS;
	vm->vm_memory_mib = CONFIG_MEMORY_MIB;
	vm->vm_count = 1;
	vm->vm_bootstrap = BOOTSTRAP_AUTO;
	vm->vm_bootstrap_timeout = CONFIG_BOOTSTRAP_TIMEOUT;
	TAILQ_INSERT_TAIL(&ps.conf->cf_vms, vm, vm_entry);
	ps.vm = vm;
}

static void
vm_end(void)
{
	struct vm	*vm = ps.vm;
	struct forward	*fw;
	char		 last[16];
	int		 i;

	if (vm->vm_name == NULL)
		return;
	if (vm->vm_image != NULL && vm->vm_disk != NULL)
		perr_at(vm->vm_srcfile, vm->vm_line, "vm \"%s\": give an "
		    "image or a disk, not both", vm->vm_name);
	if (vm->vm_count > 1) {
		snprintf(last, sizeof(last), "-%u", vm->vm_count - 1);
		if (strlen(vm->vm_name) + strlen(last) > CONFIG_NAME_MAX)
			perr_at(vm->vm_srcfile, vm->vm_line, "vm \"%s\": "
			    "instance name \"%s%s\" is longer than %d "
			    "characters", vm->vm_name, vm->vm_name, last,
			    CONFIG_NAME_MAX);
	}
	for (i = 0; i < vm->vm_nforwards; i++) {
		fw = &vm->vm_forwards[i];
		if (fw->fw_host + vm->vm_count - 1 > UINT16_MAX)
			perr_at(vm->vm_srcfile, fw->fw_line, "forward %s %u: "
			    "instance %u would need port %u",
			    config_proto_name(fw->fw_proto), fw->fw_host,
			    vm->vm_count - 1,
			    fw->fw_host + vm->vm_count - 1);
	}
	ps.vm = NULL;
}

/* Stores a bind address in the form inet_ntop gives, for comparing. */
static int
parse_bind(int line, const char *addr, char *res, size_t len)
{
	unsigned char	 bin[sizeof(struct in6_addr)];
	int		 af;

	if (inet_pton(AF_INET, addr, bin) == 1)
		af = AF_INET;
	else if (inet_pton(AF_INET6, addr, bin) == 1)
		af = AF_INET6;
	else {
		perr(line, "bind \"%s\": not an IPv4 or IPv6 address", addr);
		return (-1);
	}
	if (inet_ntop(af, bin, res, len) == NULL) {
		perr(line, "bind \"%s\": %s", addr, strerror(errno));
		return (-1);
	}
	return (0);
}

static void
vm_forward(int line, int proto, int64_t host, int64_t guest, char *bind)
{
	struct forward	 fw;
	struct vm	*vm = ps.vm;

	memset(&fw, 0, sizeof(fw));
	fw.fw_proto = proto;
	fw.fw_line = line;
	if (parse_port(line, host, "forward host port", &fw.fw_host) == -1 ||
	    parse_port(line, guest, "forward guest port",
	    &fw.fw_guest) == -1)
		goto done;
	if (parse_bind(line, bind != NULL ? bind : "127.0.0.1", fw.fw_bind,
	    sizeof(fw.fw_bind)) == -1)
		goto done;
	if (vm->vm_nforwards >= CONFIG_FORWARDS_MAX) {
		perr(line, "more than %d forwards", CONFIG_FORWARDS_MAX);
		goto done;
	}
	vm->vm_forwards[vm->vm_nforwards++] = fw;
 done:
	free(bind);
}

static void
vm_env(int line, char *name, char *value)
{
	struct vm	*vm = ps.vm;
	const char	*p;
	int		 i;

	for (p = name; *p != '\0'; p++)
		if (!isascii((unsigned char)*p) ||
		    !(isalnum((unsigned char)*p) || *p == '_'))
			break;
	if (*name == '\0' || *p != '\0' || isdigit((unsigned char)*name) ||
	    strlen(name) > CONFIG_NAME_MAX) {
		perr(line, "env \"%s\": a name is a letter or '_' and then "
		    "letters, digits or '_'", name);
		goto fail;
	}
	for (i = 0; i < vm->vm_nenv; i++)
		if (strcmp(vm->vm_env[i].ev_name, name) == 0) {
			perr(line, "env \"%s\" given twice", name);
			goto fail;
		}
	if (vm->vm_nenv >= CONFIG_ENV_MAX) {
		perr(line, "more than %d env variables", CONFIG_ENV_MAX);
		goto fail;
	}
	vm->vm_env[vm->vm_nenv].ev_name = name;
	vm->vm_env[vm->vm_nenv].ev_value = value;
	vm->vm_nenv++;
	return;
 fail:
	free(name);
	free(value);
}

static void
vm_depends(int line, char *name)
{
	struct vm	*vm = ps.vm;
	const char	*why;
	int		 i;

	if ((why = config_name_error(name)) != NULL) {
		perr(line, "depends \"%s\": %s", name, why);
		goto fail;
	}
	for (i = 0; i < vm->vm_ndepends; i++)
		if (strcmp(vm->vm_depends[i], name) == 0) {
			perr(line, "depends \"%s\" given twice", name);
			goto fail;
		}
	if (vm->vm_ndepends >= CONFIG_DEPENDS_MAX) {
		perr(line, "more than %d dependencies", CONFIG_DEPENDS_MAX);
		goto fail;
	}
	vm->vm_depends[vm->vm_ndepends++] = name;
	return;
 fail:
	free(name);
}

/* Checks of the whole file */

static void
check_images(void)
{
	struct vm	*vm;

	TAILQ_FOREACH(vm, &ps.conf->cf_vms, vm_entry) {
		if (vm->vm_image == NULL && vm->vm_disk == NULL) {
			if (config_image(ps.conf,
			    CONFIG_DEFAULT_IMAGE) == NULL)
				perr_at(vm->vm_srcfile, vm->vm_line,
				    "vm \"%s\" has no image or disk, and "
				    "no image \"%s\" is defined", vm->vm_name,
				    CONFIG_DEFAULT_IMAGE);
			else
				vm->vm_image = xstrdup(CONFIG_DEFAULT_IMAGE);
		} else if (vm->vm_image != NULL &&
		    config_image(ps.conf, vm->vm_image) == NULL)
			perr_at(vm->vm_srcfile, vm->vm_line,
			    "vm \"%s\": unknown image \"%s\"", vm->vm_name,
			    vm->vm_image);
	}
}

struct depwalk {
	struct vm	**dw_vms;
	int		 *dw_color;	/* 0 new, 1 on the path, 2 done */
	int		 *dw_path;
	int		  dw_n;
};

static int
depwalk_index(struct depwalk *dw, const char *name)
{
	int	 i;

	for (i = 0; i < dw->dw_n; i++)
		if (strcmp(dw->dw_vms[i]->vm_name, name) == 0)
			return (i);
	return (-1);
}

/* Depth first; a VM met again while on the path closes a cycle. */
static void
depwalk_visit(struct depwalk *dw, int i, int depth)
{
	struct vm	*vm = dw->dw_vms[i];
	char		 cycle[1024];
	int		 d, j, k;

	dw->dw_color[i] = 1;
	dw->dw_path[depth] = i;
	for (d = 0; d < vm->vm_ndepends; d++) {
		if ((j = depwalk_index(dw, vm->vm_depends[d])) == -1 ||
		    j == i)
			continue;
		if (dw->dw_color[j] == 0) {
			depwalk_visit(dw, j, depth + 1);
			continue;
		}
		if (dw->dw_color[j] != 1)
			continue;
		cycle[0] = '\0';
		for (k = 0; dw->dw_path[k] != j; k++)
			;
		for (; k <= depth; k++) {
			strlcat(cycle, dw->dw_vms[dw->dw_path[k]]->vm_name,
			    sizeof(cycle));
			strlcat(cycle, " -> ", sizeof(cycle));
		}
		strlcat(cycle, dw->dw_vms[j]->vm_name, sizeof(cycle));
		perr_at(vm->vm_srcfile, vm->vm_line, "vm \"%s\": dependency "
		    "cycle %s", vm->vm_name, cycle);
	}
	dw->dw_color[i] = 2;
}

static void
check_depends(void)
{
	struct depwalk	 dw;
	struct vm	*vm;
	int		 d, i;

	memset(&dw, 0, sizeof(dw));
	TAILQ_FOREACH(vm, &ps.conf->cf_vms, vm_entry) {
		dw.dw_n++;
		for (d = 0; d < vm->vm_ndepends; d++) {
			if (strcmp(vm->vm_depends[d], vm->vm_name) == 0)
				perr_at(vm->vm_srcfile, vm->vm_line,
				    "vm \"%s\" depends on itself",
				    vm->vm_name);
			else if (config_vm(ps.conf, vm->vm_depends[d]) == NULL)
				perr_at(vm->vm_srcfile, vm->vm_line,
				    "vm \"%s\" depends on unknown vm \"%s\"",
				    vm->vm_name, vm->vm_depends[d]);
		}
	}
	if (dw.dw_n == 0)
		return;
	dw.dw_vms = calloc(dw.dw_n, sizeof(*dw.dw_vms));
	dw.dw_color = calloc(dw.dw_n, sizeof(*dw.dw_color));
	dw.dw_path = calloc(dw.dw_n, sizeof(*dw.dw_path));
	if (dw.dw_vms == NULL || dw.dw_color == NULL || dw.dw_path == NULL) {
		ps.nomem = 1;
		goto done;
	}
	i = 0;
	TAILQ_FOREACH(vm, &ps.conf->cf_vms, vm_entry)
		dw.dw_vms[i++] = vm;
	dw.dw_n = i;
	for (i = 0; i < dw.dw_n; i++)
		if (dw.dw_color[i] == 0)
			depwalk_visit(&dw, i, 0);
 done:
	free(dw.dw_vms);
	free(dw.dw_color);
	free(dw.dw_path);
}

static int
bind_is_any(const char *bind)
{
	return (strcmp(bind, "0.0.0.0") == 0 || strcmp(bind, "::") == 0);
}

/* An address of 0.0.0.0 or :: takes the port on every address. */
static int
forwards_collide(const struct forward *a, const struct forward *b)
{
	if (a->fw_proto != b->fw_proto || a->fw_host != b->fw_host)
		return (0);
	return (strcmp(a->fw_bind, b->fw_bind) == 0 ||
	    bind_is_any(a->fw_bind) || bind_is_any(b->fw_bind));
}

static const char *
forward_str(const struct forward *fw, char *buf, size_t len)
{
	int	 v6 = strchr(fw->fw_bind, ':') != NULL;

	snprintf(buf, len, "%s %s%s%s:%u", config_proto_name(fw->fw_proto),
	    v6 ? "[" : "", fw->fw_bind, v6 ? "]" : "", fw->fw_host);
	return (buf);
}

static void
check_forwards(struct instance *all, size_t n)
{
	struct instance	*in, *o;
	struct forward	*fw, *ofw;
	char		 a[80], b[80];
	size_t		 i, j;
	int		 f, g;

	for (i = 0; i < n; i++) {
		in = &all[i];
		for (f = 0; f < in->in_nforwards; f++) {
			fw = &in->in_forwards[f];
			if (fw->fw_host == ps.conf->cf_broker_port)
				perr_at(in->in_vm->vm_srcfile, fw->fw_line,
				    "forward %s of \"%s\": the port is the "
				    "broker's", forward_str(fw, a, sizeof(a)),
				    in->in_name);
			for (j = 0; j <= i; j++) {
				o = &all[j];
				for (g = 0; g < o->in_nforwards; g++) {
					ofw = &o->in_forwards[g];
					if (j == i && g >= f)
						break;
					if (!forwards_collide(fw, ofw))
						continue;
					perr_at(in->in_vm->vm_srcfile,
					    fw->fw_line, "forward %s of "
					    "\"%s\" collides with %s of "
					    "\"%s\"",
					    forward_str(fw, a, sizeof(a)),
					    in->in_name,
					    forward_str(ofw, b, sizeof(b)),
					    o->in_name);
				}
			}
		}
	}
}

/*
 * Expand the declarations as config_instances() will, and look for
 * names and host ports that two instances would share.
 */
static void
check_instances(void)
{
	struct instance	*all, *in;
	struct vm	*vm;
	size_t		 n = 0, i, j;
	uint32_t	 k;
	int		 f;

	TAILQ_FOREACH(vm, &ps.conf->cf_vms, vm_entry)
		n += vm->vm_count;
	if (n == 0)
		return;
	if ((all = calloc(n, sizeof(*all))) == NULL) {
		ps.nomem = 1;
		return;
	}
	in = all;
	TAILQ_FOREACH(vm, &ps.conf->cf_vms, vm_entry) {
		for (k = 0; k < vm->vm_count; k++, in++) {
			/* Too long a name was said already; cut it here. */
			if (vm->vm_count == 1)
				strlcpy(in->in_name, vm->vm_name,
				    sizeof(in->in_name));
			else
				snprintf(in->in_name, sizeof(in->in_name),
				    "%s-%u", vm->vm_name, k);
			in->in_vm = vm;
			in->in_index = k;
			for (f = 0; f < vm->vm_nforwards; f++) {
				if (vm->vm_forwards[f].fw_host + k > UINT16_MAX)
					continue;
				in->in_forwards[in->in_nforwards] =
				    vm->vm_forwards[f];
				in->in_forwards[in->in_nforwards++].fw_host +=
				    k;
			}
		}
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++) {
			if (strcmp(all[i].in_name, all[j].in_name) != 0)
				continue;
			/* A VM defined twice was said already. */
			if (strcmp(all[i].in_vm->vm_name,
			    all[j].in_vm->vm_name) == 0)
				continue;
			perr_at(all[i].in_vm->vm_srcfile,
			    all[i].in_vm->vm_line, "vm \"%s\": instance "
			    "\"%s\" has the name of one of vm \"%s\"",
			    all[i].in_vm->vm_name, all[i].in_name,
			    all[j].in_vm->vm_name);
			break;
		}
	check_forwards(all, n);
	free(all);
}

static void
conf_check(void)
{
	if (ps.conf->cf_project == NULL)
		perr_at(ps.top->f_name, ps.top->f_lastline,
		    "no project name: add project \"name\"");
	check_images();
	check_depends();
	check_instances();
}

/* Parsing */

static struct config *
conf_new(const char *path, const char *dir)
{
	struct config	*cf;

	if ((cf = calloc(1, sizeof(*cf))) == NULL)
		return (NULL);
	TAILQ_INIT(&cf->cf_images);
	TAILQ_INIT(&cf->cf_vms);
	cf->cf_broker_port = CONFIG_BROKER_PORT;
	cf->cf_wait_graceful = CONFIG_WAIT_GRACEFUL;
	cf->cf_wait_sigterm = CONFIG_WAIT_SIGTERM;
	cf->cf_wait_sigkill = CONFIG_WAIT_SIGKILL;
	if ((cf->cf_path = strdup(path)) == NULL ||
	    (cf->cf_dir = strdup(dir)) == NULL) {
		config_free(cf);
		return (NULL);
	}
	return (cf);
}

static void
parse_cleanup(void)
{
	struct file	*f;
	struct sym	*sym;

	while ((f = TAILQ_FIRST(&ps.files)) != NULL) {
		TAILQ_REMOVE(&ps.files, f, f_entry);
		file_free(f);
	}
	while ((sym = TAILQ_FIRST(&ps.syms)) != NULL) {
		TAILQ_REMOVE(&ps.syms, sym, sym_entry);
		free(sym->sym_name);
		free(sym->sym_value);
		free(sym);
	}
	if (ps.errs != NULL)
		fclose(ps.errs);
	ps.errs = NULL;
}

/*
 * Parse stream, which messages call name; cf_path and cf_dir of the
 * result are path and dir.  Takes stream.
 */
static struct config *
parse_stream(const char *name, const char *path, const char *dir,
    FILE *stream, int inmemory, char *const *defines, char **errp)
{
	struct config	*cf = NULL;
	char		*errbuf = NULL;
	size_t		 errlen = 0;
	int		 i, nerrors, nomem;

	memset(&ps, 0, sizeof(ps));
	TAILQ_INIT(&ps.files);
	TAILQ_INIT(&ps.syms);
	ps.inmemory = inmemory;
	if ((ps.errs = open_memstream(&errbuf, &errlen)) == NULL ||
	    (ps.conf = conf_new(path, dir)) == NULL ||
	    (ps.top = pushfile(name, dir, stream)) == NULL) {
		fclose(stream);
		ps.nomem = 1;
		goto done;
	}
	for (i = 0; defines != NULL && defines[i] != NULL; i++)
		if (cmdline_symset(defines[i]) == -1)
			ps.nomem = 1;
	if (!ps.nomem)
		yyparse();
	if (!ps.nomem)
		conf_check();
 done:
	nerrors = ps.nerrors;
	nomem = ps.nomem;
	cf = ps.conf;
	parse_cleanup();
	if (nomem || errbuf == NULL) {
		config_free(cf);
		free(errbuf);
		errno = ENOMEM;
		return (NULL);
	}
	if (nerrors > 0) {
		config_free(cf);
		*errp = errbuf;
		errno = EINVAL;
		return (NULL);
	}
	free(errbuf);
	return (cf);
}

static char *
path_dir(const char *path)
{
	const char	*slash;

	if ((slash = strrchr(path, '/')) == NULL)
		return (strdup("."));
	if (slash == path)
		return (strdup("/"));
	return (strndup(path, slash - path));
}

struct config *
config_parse_file(const char *path, char *const *defines, char **errp)
{
	struct config	*cf;
	struct stat	 st;
	char		 found[PATH_MAX], real[PATH_MAX], *dir = NULL;
	char		*dummy;
	FILE		*fp;
	int		 saved;

	if (errp == NULL)
		errp = &dummy;
	*errp = NULL;
	if (path == NULL) {
		if (config_find(found, sizeof(found)) == -1) {
			saved = errno;
			if (asprintf(errp, "%s: not found in the working "
			    "directory or above it\n", CONFIG_FILENAME) == -1)
				*errp = NULL;
			errno = saved;
			return (NULL);
		}
		path = found;
	}
	if ((fp = fopen(path, "re")) == NULL)
		goto fail;
	if (fstat(fileno(fp), &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : ENODEV;
		goto fail;
	}
	if (realpath(path, real) == NULL || (dir = path_dir(real)) == NULL)
		goto fail;
	cf = parse_stream(path, real, dir, fp, 0, defines, errp);
	saved = errno;
	free(dir);
	if (errp == &dummy)
		free(dummy);
	errno = saved;
	return (cf);

 fail:
	saved = errno;
	if (fp != NULL)
		fclose(fp);
	if (asprintf(errp, "%s: %s\n", path, saved == ENODEV ?
	    "not a regular file" : strerror(saved)) == -1)
		*errp = NULL;
	if (errp == &dummy)
		free(dummy);
	errno = saved;
	return (NULL);
}

struct config *
config_parse_buffer(const char *name, const char *buf, size_t len,
    char *const *defines, char **errp)
{
	static char	 empty[] = "\n";
	struct config	*cf;
	char		 real[PATH_MAX], cwd[PATH_MAX], *dir, *dummy;
	FILE		*fp;
	int		 saved;

	if (errp == NULL)
		errp = &dummy;
	*errp = NULL;
	/* Some C libraries refuse a stream of no bytes. */
	if (len == 0) {
		buf = empty;
		len = 1;
	}
	if ((fp = fmemopen((void *)(uintptr_t)buf, len, "r")) == NULL)
		return (NULL);
	/* The name need not exist, but paths are made absolute still. */
	if (realpath(name, real) == NULL) {
		cwd[0] = '\0';
		if (*name != '/' && getcwd(cwd, sizeof(cwd)) == NULL)
			strlcpy(cwd, "/", sizeof(cwd));
		if (snprintf(real, sizeof(real), "%s/%s", cwd, name) >=
		    (int)sizeof(real)) {
			fclose(fp);
			errno = ENAMETOOLONG;
			return (NULL);
		}
		path_clean(real);
	}
	if ((dir = path_dir(real)) == NULL) {
		fclose(fp);
		return (NULL);
	}
	cf = parse_stream(name, real, dir, fp, 1, defines, errp);
	saved = errno;
	free(dir);
	if (errp == &dummy)
		free(dummy);
	errno = saved;
	return (cf);
}
