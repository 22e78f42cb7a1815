/* original parser id follows */
/* yysccsid[] = "@(#)yaccpar	1.9 (Berkeley) 02/21/93" */
/* (use YYMAJOR/YYMINOR for ifdefs dependent on parser version) */

#define YYBYACC 1
#define YYMAJOR 2
#define YYMINOR 0
#define YYPATCH 20221106

#define YYEMPTY        (-1)
#define yyclearin      (yychar = YYEMPTY)
#define yyerrok        (yyerrflag = 0)
#define YYRECOVERING() (yyerrflag != 0)
#define YYENOMEM       (-2)
#define YYEOF          0
#undef YYBTYACC
#define YYBTYACC 0
#define YYDEBUGSTR YYPREFIX "debug"
#define YYPREFIX "yy"

#define YYPURE 0

#line 9 "lib/parse.y"
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

#line 172 "build-asan/lib/parse.c"

/* compatibility with bison */
#ifdef YYPARSE_PARAM
/* compatibility with FreeBSD */
# ifdef YYPARSE_PARAM_TYPE
#  define YYPARSE_DECL() yyparse(YYPARSE_PARAM_TYPE YYPARSE_PARAM)
# else
#  define YYPARSE_DECL() yyparse(void *YYPARSE_PARAM)
# endif
#else
# define YYPARSE_DECL() yyparse(void)
#endif

/* Parameters sent to lex. */
#ifdef YYLEX_PARAM
# define YYLEX_DECL() yylex(void *YYLEX_PARAM)
# define YYLEX yylex(YYLEX_PARAM)
#else
# define YYLEX_DECL() yylex(void)
# define YYLEX yylex()
#endif

#if !(defined(yylex) || defined(YYSTATE))
int YYLEX_DECL();
#endif

/* Parameters sent to yyerror. */
#ifndef YYERROR_DECL
#define YYERROR_DECL() yyerror(const char *s)
#endif
#ifndef YYERROR_CALL
#define YYERROR_CALL(msg) yyerror(msg)
#endif

#ifndef YYDESTRUCT_DECL
#define YYDESTRUCT_DECL() yydestruct(const char *msg, int psymb, YYSTYPE *val)
#endif
#ifndef YYDESTRUCT_CALL
#define YYDESTRUCT_CALL(msg, psymb, val) yydestruct(msg, psymb, val)
#endif

extern int YYPARSE_DECL();

#define ALWAYS 257
#define AUTO 258
#define BIND 259
#define BOOTSTRAP 260
#define BROKER 261
#define CMDLINE 262
#define COUNT 263
#define CPUS 264
#define DEPENDS 265
#define DIR 266
#define DISK 267
#define ENV 268
#define FORWARD 269
#define GRACEFUL 270
#define IMAGE 271
#define INCLUDE 272
#define INITRD 273
#define KERNEL 274
#define MEMORY 275
#define PORT 276
#define PROJECT 277
#define SHA256 278
#define SHA512 279
#define SIGKILL 280
#define SIGTERM 281
#define SIZE 282
#define SKIP 283
#define STATE 284
#define TCP 285
#define TIMEOUT 286
#define TO 287
#define UDP 288
#define URL 289
#define VERIFY 290
#define VM 291
#define WAIT 292
#define ERROR 293
#define STRING 294
#define NUMBER 295
#define YYERRCODE 256
typedef int YYINT;
static const YYINT yylhs[] = {                           -1,
    0,    0,    0,    0,    0,    0,    0,    0,    3,    4,
    4,    5,    5,    5,    5,    5,    8,    8,    9,    9,
    9,    9,    9,    9,   10,   10,    6,    6,   11,   12,
   12,   12,   12,   13,   13,   13,   13,   15,   17,   16,
   16,   18,   18,   18,   18,   14,   14,   14,   14,   14,
    7,    7,   19,   20,   20,   20,   20,   21,   21,   21,
   21,   21,   21,   21,   21,   21,   21,    1,    1,    1,
    2,    2,   22,   22,   23,   23,   23,   23,   23,   23,
   23,
};
static const YYINT yylen[] = {                            2,
    0,    2,    3,    3,    3,    3,    3,    3,    2,    3,
    3,    2,    2,    3,    3,    2,    1,    2,    2,    2,
    2,    2,    2,    2,    0,    2,    5,    6,    2,    0,
    2,    2,    3,    1,    2,    2,    2,    1,    1,    4,
    5,    0,    2,    2,    3,    2,    2,    2,    2,    2,
    5,    6,    2,    0,    2,    2,    3,    2,    2,    2,
    2,    2,    2,    6,    2,    3,    2,    0,    1,    1,
    0,    2,    1,    2,    1,    1,    1,    2,    2,    2,
    2,
};
static const YYINT yydefred[] = {                         1,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    2,    0,    0,    0,    0,    0,   25,   25,    8,    0,
   29,    9,   12,   13,   53,    0,    0,    0,    0,   17,
    0,    3,    4,    5,    6,    7,    0,    0,   15,   14,
   20,   19,   24,   23,   22,   21,   18,   10,   11,   26,
   30,   54,    0,    0,    0,    0,   39,   38,    0,    0,
    0,    0,   31,   27,   32,   34,   25,   25,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,   55,   51,
   56,   33,   28,   37,   47,   48,   50,   49,   46,    0,
   35,   36,   57,   52,   77,   75,    0,   76,    0,    0,
    0,   73,   63,   60,   67,   59,    0,   69,   70,    0,
   58,   62,   61,   42,   78,   80,   79,   81,   74,   66,
    0,    0,    0,    0,   43,   40,   44,    0,   45,   41,
    0,   64,   72,
};
#if defined(YYDESTRUCT_CALL) || defined(YYSTYPE_TOSTRING)
static const YYINT yystos[] = {                           0,
  297,  256,  261,  271,  272,  277,  284,  291,  292,  294,
   10,  300,  301,  302,  303,  304,  308,  316,   10,  276,
  294,  294,  294,  294,  294,  270,  280,  281,  305,  306,
   61,   10,   10,   10,   10,   10,  307,  307,  294,  295,
  294,  295,  294,  295,  294,  295,  306,  294,  295,   10,
  123,  123,  309,  317,  256,  262,  273,  274,  278,  279,
  282,  289,   10,  125,  310,  311,  312,  314,  256,  260,
  263,  264,  265,  267,  268,  269,  271,  275,   10,  125,
  318,   10,  125,  294,  294,  294,  294,  295,  294,  307,
  313,  313,   10,  125,  257,  258,  266,  283,  286,  290,
  319,  320,  295,  295,  294,  294,  294,  285,  288,  298,
  294,  294,  295,  123,  294,  294,  295,  294,  320,  294,
  295,  315,  287,  256,   10,  125,  311,  295,   10,  125,
  259,  299,  294,
};
#endif /* YYDESTRUCT_CALL || YYSTYPE_TOSTRING */
static const YYINT yydgoto[] = {                          1,
  110,  132,   12,   13,   14,   15,   16,   29,   30,   90,
   17,   53,   65,   66,   67,   91,   68,  122,   18,   54,
   81,  101,  102,
};
static const YYINT yysindex[] = {                         0,
  -10,    1, -263, -278, -264, -257, -251, -249, -260,  -15,
    0,   37,   38,   39,   40,   41,    0,    0,    0, -276,
    0,    0,    0,    0,    0, -272, -270, -268, -260,    0,
 -266,    0,    0,    0,    0,    0,   -3,   -2,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,   -9,   34,   -8, -242,    0,    0, -241, -240,
 -262, -239,    0,    0,    0,    0,    0,    0,   -7, -252,
 -238, -236, -234, -233, -232, -273, -231, -259,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,   -1,
    0,    0,    0,    0,    0,    0, -230,    0, -255, -229,
 -252,    0,    0,    0,    0,    0, -228,    0,    0, -227,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
 -220,    7, -226,   -6,    0,    0,    0, -203,    0,    0,
 -224,    0,    0,
};
static const YYINT yyrindex[] = {                         0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,   61,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0, -222,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
   48,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,   62,    0,    0,
    0,    0,    0,
};
#if YYBTYACC
static const YYINT yycindex[] = {                         0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,
};
#endif
static const YYINT yygindex[] = {                         0,
    0,    0,    0,    0,    0,    0,    0,    0,   45,   24,
    0,    0,    0,  -47,    0,    8,    0,    0,    0,    0,
    0,    0,  -24,
};
#define YYTABLESIZE 337
static const YYINT yytable[] = {                         11,
   63,   82,   93,  129,   95,   96,   50,   50,   50,   26,
   19,  108,   20,   97,  109,   21,  125,   39,   40,   27,
   28,   41,   42,   43,   44,   45,   46,   48,   49,   22,
   98,   87,   88,   99,  112,  113,   23,  100,  116,  117,
   37,   38,   24,   79,   25,   31,   32,   33,   34,   35,
   36,   84,   85,   86,   89,  131,  103,   65,  104,  105,
  106,  107,  111,  115,  118,  120,  123,  121,  128,  133,
   16,   71,   68,   47,  127,   92,  119,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,   64,   83,   94,  130,   51,
   52,  114,    0,    0,    0,    0,    0,    0,    0,    0,
    0,  126,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,   80,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,   65,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,   71,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    2,   55,    0,    0,    0,
    3,    0,   56,    0,    0,    0,    0,    0,    0,    0,
    4,    5,  124,   57,   58,    0,    6,    0,   59,   60,
    0,    0,   61,    7,    0,    0,    0,    0,    0,   62,
    8,    9,    0,   10,   59,   60,    0,    0,   61,   69,
    0,    0,    0,   70,    0,   62,   71,   72,   73,    0,
   74,   75,   76,   65,   77,    0,    0,   65,   78,    0,
   65,   65,   65,    0,   65,   65,   65,   71,   65,    0,
    0,   71,   65,    0,   71,   71,   71,    0,   71,   71,
   71,    0,   71,    0,    0,    0,   71,
};
static const YYINT yycheck[] = {                         10,
   10,   10,   10,   10,  257,  258,   10,   10,   10,  270,
   10,  285,  276,  266,  288,  294,   10,  294,  295,  280,
  281,  294,  295,  294,  295,  294,  295,  294,  295,  294,
  283,  294,  295,  286,  294,  295,  294,  290,  294,  295,
   17,   18,  294,   10,  294,   61,   10,   10,   10,   10,
   10,  294,  294,  294,  294,  259,  295,   10,  295,  294,
  294,  294,  294,  294,  294,  294,  287,  295,  295,  294,
   10,   10,  295,   29,  122,   68,  101,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,  125,  125,  125,  125,  123,
  123,  123,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,  125,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,  125,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,  125,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,  125,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,  256,  256,   -1,   -1,   -1,
  261,   -1,  262,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
  271,  272,  256,  273,  274,   -1,  277,   -1,  278,  279,
   -1,   -1,  282,  284,   -1,   -1,   -1,   -1,   -1,  289,
  291,  292,   -1,  294,  278,  279,   -1,   -1,  282,  256,
   -1,   -1,   -1,  260,   -1,  289,  263,  264,  265,   -1,
  267,  268,  269,  256,  271,   -1,   -1,  260,  275,   -1,
  263,  264,  265,   -1,  267,  268,  269,  256,  271,   -1,
   -1,  260,  275,   -1,  263,  264,  265,   -1,  267,  268,
  269,   -1,  271,   -1,   -1,   -1,  275,
};
#if YYBTYACC
static const YYINT yyctable[] = {                        -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,
   -1,   -1,   -1,   -1,   -1,   -1,
};
#endif
#define YYFINAL 1
#ifndef YYDEBUG
#define YYDEBUG 0
#endif
#define YYMAXTOKEN 295
#define YYUNDFTOKEN 321
#define YYTRANSLATE(a) ((a) > YYMAXTOKEN ? YYUNDFTOKEN : (a))
#if YYDEBUG
static const char *const yyname[] = {

"$end",0,0,0,0,0,0,0,0,0,"'\\n'",0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"'='",0,0,0,0,0,0,0,0,0,0,
0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
0,0,0,0,0,0,0,0,0,0,0,"'{'",0,"'}'",0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"error","ALWAYS","AUTO",
"BIND","BOOTSTRAP","BROKER","CMDLINE","COUNT","CPUS","DEPENDS","DIR","DISK",
"ENV","FORWARD","GRACEFUL","IMAGE","INCLUDE","INITRD","KERNEL","MEMORY","PORT",
"PROJECT","SHA256","SHA512","SIGKILL","SIGTERM","SIZE","SKIP","STATE","TCP",
"TIMEOUT","TO","UDP","URL","VERIFY","VM","WAIT","ERROR","STRING","NUMBER",
"$accept","grammar","proto","bind","include","varset","main","imagedecl",
"vmdecl","waitopts","waitopt","optnl","imagehead","imageopts","imageopt",
"artopt","kernelhead","artblock","initrdhead","artopts","vmhead","vmopts",
"vmopt","bootopts","bootopt","illegal-symbol",
};
static const char *const yyrule[] = {
"$accept : grammar",
"grammar :",
"grammar : grammar '\\n'",
"grammar : grammar include '\\n'",
"grammar : grammar varset '\\n'",
"grammar : grammar main '\\n'",
"grammar : grammar imagedecl '\\n'",
"grammar : grammar vmdecl '\\n'",
"grammar : grammar error '\\n'",
"include : INCLUDE STRING",
"varset : STRING '=' STRING",
"varset : STRING '=' NUMBER",
"main : PROJECT STRING",
"main : STATE STRING",
"main : BROKER PORT NUMBER",
"main : BROKER PORT STRING",
"main : WAIT waitopts",
"waitopts : waitopt",
"waitopts : waitopts waitopt",
"waitopt : GRACEFUL NUMBER",
"waitopt : GRACEFUL STRING",
"waitopt : SIGTERM NUMBER",
"waitopt : SIGTERM STRING",
"waitopt : SIGKILL NUMBER",
"waitopt : SIGKILL STRING",
"optnl :",
"optnl : optnl '\\n'",
"imagedecl : imagehead optnl '{' imageopts '}'",
"imagedecl : imagehead optnl '{' imageopts error '}'",
"imagehead : IMAGE STRING",
"imageopts :",
"imageopts : imageopts '\\n'",
"imageopts : imageopts imageopt",
"imageopts : imageopts error '\\n'",
"imageopt : artopt",
"imageopt : kernelhead artblock",
"imageopt : initrdhead artblock",
"imageopt : CMDLINE STRING",
"kernelhead : KERNEL",
"initrdhead : INITRD",
"artblock : optnl '{' artopts '}'",
"artblock : optnl '{' artopts error '}'",
"artopts :",
"artopts : artopts '\\n'",
"artopts : artopts artopt",
"artopts : artopts error '\\n'",
"artopt : URL STRING",
"artopt : SHA256 STRING",
"artopt : SHA512 STRING",
"artopt : SIZE NUMBER",
"artopt : SIZE STRING",
"vmdecl : vmhead optnl '{' vmopts '}'",
"vmdecl : vmhead optnl '{' vmopts error '}'",
"vmhead : VM STRING",
"vmopts :",
"vmopts : vmopts '\\n'",
"vmopts : vmopts vmopt",
"vmopts : vmopts error '\\n'",
"vmopt : IMAGE STRING",
"vmopt : DISK STRING",
"vmopt : CPUS NUMBER",
"vmopt : MEMORY NUMBER",
"vmopt : MEMORY STRING",
"vmopt : COUNT NUMBER",
"vmopt : FORWARD proto NUMBER TO NUMBER bind",
"vmopt : BOOTSTRAP bootopts",
"vmopt : ENV STRING STRING",
"vmopt : DEPENDS STRING",
"proto :",
"proto : TCP",
"proto : UDP",
"bind :",
"bind : BIND STRING",
"bootopts : bootopt",
"bootopts : bootopts bootopt",
"bootopt : AUTO",
"bootopt : SKIP",
"bootopt : ALWAYS",
"bootopt : DIR STRING",
"bootopt : TIMEOUT NUMBER",
"bootopt : TIMEOUT STRING",
"bootopt : VERIFY STRING",

};
#endif

#if YYDEBUG
int      yydebug;
#endif

int      yyerrflag;
int      yychar;
YYSTYPE  yyval;
YYSTYPE  yylval;
int      yynerrs;

#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
YYLTYPE  yyloc; /* position returned by actions */
YYLTYPE  yylloc; /* position from the lexer */
#endif

#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
#ifndef YYLLOC_DEFAULT
#define YYLLOC_DEFAULT(loc, rhs, n) \
do \
{ \
    if (n == 0) \
    { \
        (loc).first_line   = YYRHSLOC(rhs, 0).last_line; \
        (loc).first_column = YYRHSLOC(rhs, 0).last_column; \
        (loc).last_line    = YYRHSLOC(rhs, 0).last_line; \
        (loc).last_column  = YYRHSLOC(rhs, 0).last_column; \
    } \
    else \
    { \
        (loc).first_line   = YYRHSLOC(rhs, 1).first_line; \
        (loc).first_column = YYRHSLOC(rhs, 1).first_column; \
        (loc).last_line    = YYRHSLOC(rhs, n).last_line; \
        (loc).last_column  = YYRHSLOC(rhs, n).last_column; \
    } \
} while (0)
#endif /* YYLLOC_DEFAULT */
#endif /* defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED) */
#if YYBTYACC

#ifndef YYLVQUEUEGROWTH
#define YYLVQUEUEGROWTH 32
#endif
#endif /* YYBTYACC */

/* define the initial stack-sizes */
#ifdef YYSTACKSIZE
#undef YYMAXDEPTH
#define YYMAXDEPTH  YYSTACKSIZE
#else
#ifdef YYMAXDEPTH
#define YYSTACKSIZE YYMAXDEPTH
#else
#define YYSTACKSIZE 10000
#define YYMAXDEPTH  10000
#endif
#endif

#ifndef YYINITSTACKSIZE
#define YYINITSTACKSIZE 200
#endif

typedef struct {
    unsigned stacksize;
    YYINT    *s_base;
    YYINT    *s_mark;
    YYINT    *s_last;
    YYSTYPE  *l_base;
    YYSTYPE  *l_mark;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    YYLTYPE  *p_base;
    YYLTYPE  *p_mark;
#endif
} YYSTACKDATA;
#if YYBTYACC

struct YYParseState_s
{
    struct YYParseState_s *save;    /* Previously saved parser state */
    YYSTACKDATA            yystack; /* saved parser stack */
    int                    state;   /* saved parser state */
    int                    errflag; /* saved error recovery status */
    int                    lexeme;  /* saved index of the conflict lexeme in the lexical queue */
    YYINT                  ctry;    /* saved index in yyctable[] for this conflict */
};
typedef struct YYParseState_s YYParseState;
#endif /* YYBTYACC */
/* variables for the parser stack */
static YYSTACKDATA yystack;
#if YYBTYACC

/* Current parser state */
static YYParseState *yyps = 0;

/* yypath != NULL: do the full parse, starting at *yypath parser state. */
static YYParseState *yypath = 0;

/* Base of the lexical value queue */
static YYSTYPE *yylvals = 0;

/* Current position at lexical value queue */
static YYSTYPE *yylvp = 0;

/* End position of lexical value queue */
static YYSTYPE *yylve = 0;

/* The last allocated position at the lexical value queue */
static YYSTYPE *yylvlim = 0;

#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
/* Base of the lexical position queue */
static YYLTYPE *yylpsns = 0;

/* Current position at lexical position queue */
static YYLTYPE *yylpp = 0;

/* End position of lexical position queue */
static YYLTYPE *yylpe = 0;

/* The last allocated position at the lexical position queue */
static YYLTYPE *yylplim = 0;
#endif

/* Current position at lexical token queue */
static YYINT  *yylexp = 0;

static YYINT  *yylexemes = 0;
#endif /* YYBTYACC */
#line 453 "lib/parse.y"

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
	{ "memory",	MEMORY },
	{ "port",	PORT },
	{ "project",	PROJECT },
	{ "sha256",	SHA256 },
	{ "sha512",	SHA512 },
	{ "sigkill",	SIGKILL },
	{ "sigterm",	SIGTERM },
	{ "size",	SIZE },
	{ "skip",	SKIP },
	{ "state",	STATE },
	{ "tcp",	TCP },
	{ "timeout",	TIMEOUT },
	{ "to",		TO },
	{ "udp",	UDP },
	{ "url",	URL },
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
#line 2328 "build-asan/lib/parse.c"

/* Release memory associated with symbol. */
#if ! defined YYDESTRUCT_IS_DECLARED
static void
YYDESTRUCT_DECL()
{
    switch (psymb)
    {
	case 294:
#line 167 "lib/parse.y"
	{ free((*val).v.string); }
#line 2340 "build-asan/lib/parse.c"
	break;
	case 299:
#line 167 "lib/parse.y"
	{ free((*val).v.string); }
#line 2345 "build-asan/lib/parse.c"
	break;
    }
}
#define YYDESTRUCT_IS_DECLARED 1
#endif

/* For use in generated program */
#define yydepth (int)(yystack.s_mark - yystack.s_base)
#if YYBTYACC
#define yytrial (yyps->save)
#endif /* YYBTYACC */

#if YYDEBUG
#include <stdio.h>	/* needed for printf */
#endif

#include <stdlib.h>	/* needed for malloc, etc */
#include <string.h>	/* needed for memset */

/* allocate initial stack or double stack size, up to YYMAXDEPTH */
static int yygrowstack(YYSTACKDATA *data)
{
    int i;
    unsigned newsize;
    YYINT *newss;
    YYSTYPE *newvs;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    YYLTYPE *newps;
#endif

    if ((newsize = data->stacksize) == 0)
        newsize = YYINITSTACKSIZE;
    else if (newsize >= YYMAXDEPTH)
        return YYENOMEM;
    else if ((newsize *= 2) > YYMAXDEPTH)
        newsize = YYMAXDEPTH;

    i = (int) (data->s_mark - data->s_base);
    newss = (YYINT *)realloc(data->s_base, newsize * sizeof(*newss));
    if (newss == 0)
        return YYENOMEM;

    data->s_base = newss;
    data->s_mark = newss + i;

    newvs = (YYSTYPE *)realloc(data->l_base, newsize * sizeof(*newvs));
    if (newvs == 0)
        return YYENOMEM;

    data->l_base = newvs;
    data->l_mark = newvs + i;

#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    newps = (YYLTYPE *)realloc(data->p_base, newsize * sizeof(*newps));
    if (newps == 0)
        return YYENOMEM;

    data->p_base = newps;
    data->p_mark = newps + i;
#endif

    data->stacksize = newsize;
    data->s_last = data->s_base + newsize - 1;

#if YYDEBUG
    if (yydebug)
        fprintf(stderr, "%sdebug: stack size increased to %d\n", YYPREFIX, newsize);
#endif
    return 0;
}

#if YYPURE || defined(YY_NO_LEAKS)
static void yyfreestack(YYSTACKDATA *data)
{
    free(data->s_base);
    free(data->l_base);
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    free(data->p_base);
#endif
    memset(data, 0, sizeof(*data));
}
#else
#define yyfreestack(data) /* nothing */
#endif /* YYPURE || defined(YY_NO_LEAKS) */
#if YYBTYACC

static YYParseState *
yyNewState(unsigned size)
{
    YYParseState *p = (YYParseState *) malloc(sizeof(YYParseState));
    if (p == NULL) return NULL;

    p->yystack.stacksize = size;
    if (size == 0)
    {
        p->yystack.s_base = NULL;
        p->yystack.l_base = NULL;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
        p->yystack.p_base = NULL;
#endif
        return p;
    }
    p->yystack.s_base    = (YYINT *) malloc(size * sizeof(YYINT));
    if (p->yystack.s_base == NULL) return NULL;
    p->yystack.l_base    = (YYSTYPE *) malloc(size * sizeof(YYSTYPE));
    if (p->yystack.l_base == NULL) return NULL;
    memset(p->yystack.l_base, 0, size * sizeof(YYSTYPE));
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    p->yystack.p_base    = (YYLTYPE *) malloc(size * sizeof(YYLTYPE));
    if (p->yystack.p_base == NULL) return NULL;
    memset(p->yystack.p_base, 0, size * sizeof(YYLTYPE));
#endif

    return p;
}

static void
yyFreeState(YYParseState *p)
{
    yyfreestack(&p->yystack);
    free(p);
}
#endif /* YYBTYACC */

#define YYABORT  goto yyabort
#define YYREJECT goto yyabort
#define YYACCEPT goto yyaccept
#define YYERROR  goto yyerrlab
#if YYBTYACC
#define YYVALID        do { if (yyps->save)            goto yyvalid; } while(0)
#define YYVALID_NESTED do { if (yyps->save && \
                                yyps->save->save == 0) goto yyvalid; } while(0)
#endif /* YYBTYACC */

int
YYPARSE_DECL()
{
    int yym, yyn, yystate, yyresult;
#if YYBTYACC
    int yynewerrflag;
    YYParseState *yyerrctx = NULL;
#endif /* YYBTYACC */
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    YYLTYPE  yyerror_loc_range[3]; /* position of error start/end (0 unused) */
#endif
#if YYDEBUG
    const char *yys;

    if ((yys = getenv("YYDEBUG")) != 0)
    {
        yyn = *yys;
        if (yyn >= '0' && yyn <= '9')
            yydebug = yyn - '0';
    }
    if (yydebug)
        fprintf(stderr, "%sdebug[<# of symbols on state stack>]\n", YYPREFIX);
#endif
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    memset(yyerror_loc_range, 0, sizeof(yyerror_loc_range));
#endif

#if YYBTYACC
    yyps = yyNewState(0); if (yyps == 0) goto yyenomem;
    yyps->save = 0;
#endif /* YYBTYACC */
    yym = 0;
    /* yyn is set below */
    yynerrs = 0;
    yyerrflag = 0;
    yychar = YYEMPTY;
    yystate = 0;

#if YYPURE
    memset(&yystack, 0, sizeof(yystack));
#endif

    if (yystack.s_base == NULL && yygrowstack(&yystack) == YYENOMEM) goto yyoverflow;
    yystack.s_mark = yystack.s_base;
    yystack.l_mark = yystack.l_base;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    yystack.p_mark = yystack.p_base;
#endif
    yystate = 0;
    *yystack.s_mark = 0;

yyloop:
    if ((yyn = yydefred[yystate]) != 0) goto yyreduce;
    if (yychar < 0)
    {
#if YYBTYACC
        do {
        if (yylvp < yylve)
        {
            /* we're currently re-reading tokens */
            yylval = *yylvp++;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
            yylloc = *yylpp++;
#endif
            yychar = *yylexp++;
            break;
        }
        if (yyps->save)
        {
            /* in trial mode; save scanner results for future parse attempts */
            if (yylvp == yylvlim)
            {   /* Enlarge lexical value queue */
                size_t p = (size_t) (yylvp - yylvals);
                size_t s = (size_t) (yylvlim - yylvals);

                s += YYLVQUEUEGROWTH;
                if ((yylexemes = (YYINT *)realloc(yylexemes, s * sizeof(YYINT))) == NULL) goto yyenomem;
                if ((yylvals   = (YYSTYPE *)realloc(yylvals, s * sizeof(YYSTYPE))) == NULL) goto yyenomem;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                if ((yylpsns   = (YYLTYPE *)realloc(yylpsns, s * sizeof(YYLTYPE))) == NULL) goto yyenomem;
#endif
                yylvp   = yylve = yylvals + p;
                yylvlim = yylvals + s;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                yylpp   = yylpe = yylpsns + p;
                yylplim = yylpsns + s;
#endif
                yylexp  = yylexemes + p;
            }
            *yylexp = (YYINT) YYLEX;
            *yylvp++ = yylval;
            yylve++;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
            *yylpp++ = yylloc;
            yylpe++;
#endif
            yychar = *yylexp++;
            break;
        }
        /* normal operation, no conflict encountered */
#endif /* YYBTYACC */
        yychar = YYLEX;
#if YYBTYACC
        } while (0);
#endif /* YYBTYACC */
        if (yychar < 0) yychar = YYEOF;
#if YYDEBUG
        if (yydebug)
        {
            if ((yys = yyname[YYTRANSLATE(yychar)]) == NULL) yys = yyname[YYUNDFTOKEN];
            fprintf(stderr, "%s[%d]: state %d, reading token %d (%s)",
                            YYDEBUGSTR, yydepth, yystate, yychar, yys);
#ifdef YYSTYPE_TOSTRING
#if YYBTYACC
            if (!yytrial)
#endif /* YYBTYACC */
                fprintf(stderr, " <%s>", YYSTYPE_TOSTRING(yychar, yylval));
#endif
            fputc('\n', stderr);
        }
#endif
    }
#if YYBTYACC

    /* Do we have a conflict? */
    if (((yyn = yycindex[yystate]) != 0) && (yyn += yychar) >= 0 &&
        yyn <= YYTABLESIZE && yycheck[yyn] == (YYINT) yychar)
    {
        YYINT ctry;

        if (yypath)
        {
            YYParseState *save;
#if YYDEBUG
            if (yydebug)
                fprintf(stderr, "%s[%d]: CONFLICT in state %d: following successful trial parse\n",
                                YYDEBUGSTR, yydepth, yystate);
#endif
            /* Switch to the next conflict context */
            save = yypath;
            yypath = save->save;
            save->save = NULL;
            ctry = save->ctry;
            if (save->state != yystate) YYABORT;
            yyFreeState(save);

        }
        else
        {

            /* Unresolved conflict - start/continue trial parse */
            YYParseState *save;
#if YYDEBUG
            if (yydebug)
            {
                fprintf(stderr, "%s[%d]: CONFLICT in state %d. ", YYDEBUGSTR, yydepth, yystate);
                if (yyps->save)
                    fputs("ALREADY in conflict, continuing trial parse.\n", stderr);
                else
                    fputs("Starting trial parse.\n", stderr);
            }
#endif
            save                  = yyNewState((unsigned)(yystack.s_mark - yystack.s_base + 1));
            if (save == NULL) goto yyenomem;
            save->save            = yyps->save;
            save->state           = yystate;
            save->errflag         = yyerrflag;
            save->yystack.s_mark  = save->yystack.s_base + (yystack.s_mark - yystack.s_base);
            memcpy (save->yystack.s_base, yystack.s_base, (size_t) (yystack.s_mark - yystack.s_base + 1) * sizeof(YYINT));
            save->yystack.l_mark  = save->yystack.l_base + (yystack.l_mark - yystack.l_base);
            memcpy (save->yystack.l_base, yystack.l_base, (size_t) (yystack.l_mark - yystack.l_base + 1) * sizeof(YYSTYPE));
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
            save->yystack.p_mark  = save->yystack.p_base + (yystack.p_mark - yystack.p_base);
            memcpy (save->yystack.p_base, yystack.p_base, (size_t) (yystack.p_mark - yystack.p_base + 1) * sizeof(YYLTYPE));
#endif
            ctry                  = yytable[yyn];
            if (yyctable[ctry] == -1)
            {
#if YYDEBUG
                if (yydebug && yychar >= YYEOF)
                    fprintf(stderr, "%s[%d]: backtracking 1 token\n", YYDEBUGSTR, yydepth);
#endif
                ctry++;
            }
            save->ctry = ctry;
            if (yyps->save == NULL)
            {
                /* If this is a first conflict in the stack, start saving lexemes */
                if (!yylexemes)
                {
                    yylexemes = (YYINT *) malloc((YYLVQUEUEGROWTH) * sizeof(YYINT));
                    if (yylexemes == NULL) goto yyenomem;
                    yylvals   = (YYSTYPE *) malloc((YYLVQUEUEGROWTH) * sizeof(YYSTYPE));
                    if (yylvals == NULL) goto yyenomem;
                    yylvlim   = yylvals + YYLVQUEUEGROWTH;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                    yylpsns   = (YYLTYPE *) malloc((YYLVQUEUEGROWTH) * sizeof(YYLTYPE));
                    if (yylpsns == NULL) goto yyenomem;
                    yylplim   = yylpsns + YYLVQUEUEGROWTH;
#endif
                }
                if (yylvp == yylve)
                {
                    yylvp  = yylve = yylvals;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                    yylpp  = yylpe = yylpsns;
#endif
                    yylexp = yylexemes;
                    if (yychar >= YYEOF)
                    {
                        *yylve++ = yylval;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                        *yylpe++ = yylloc;
#endif
                        *yylexp  = (YYINT) yychar;
                        yychar   = YYEMPTY;
                    }
                }
            }
            if (yychar >= YYEOF)
            {
                yylvp--;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                yylpp--;
#endif
                yylexp--;
                yychar = YYEMPTY;
            }
            save->lexeme = (int) (yylvp - yylvals);
            yyps->save   = save;
        }
        if (yytable[yyn] == ctry)
        {
#if YYDEBUG
            if (yydebug)
                fprintf(stderr, "%s[%d]: state %d, shifting to state %d\n",
                                YYDEBUGSTR, yydepth, yystate, yyctable[ctry]);
#endif
            if (yychar < 0)
            {
                yylvp++;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                yylpp++;
#endif
                yylexp++;
            }
            if (yystack.s_mark >= yystack.s_last && yygrowstack(&yystack) == YYENOMEM)
                goto yyoverflow;
            yystate = yyctable[ctry];
            *++yystack.s_mark = (YYINT) yystate;
            *++yystack.l_mark = yylval;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
            *++yystack.p_mark = yylloc;
#endif
            yychar  = YYEMPTY;
            if (yyerrflag > 0) --yyerrflag;
            goto yyloop;
        }
        else
        {
            yyn = yyctable[ctry];
            goto yyreduce;
        }
    } /* End of code dealing with conflicts */
#endif /* YYBTYACC */
    if (((yyn = yysindex[yystate]) != 0) && (yyn += yychar) >= 0 &&
            yyn <= YYTABLESIZE && yycheck[yyn] == (YYINT) yychar)
    {
#if YYDEBUG
        if (yydebug)
            fprintf(stderr, "%s[%d]: state %d, shifting to state %d\n",
                            YYDEBUGSTR, yydepth, yystate, yytable[yyn]);
#endif
        if (yystack.s_mark >= yystack.s_last && yygrowstack(&yystack) == YYENOMEM) goto yyoverflow;
        yystate = yytable[yyn];
        *++yystack.s_mark = yytable[yyn];
        *++yystack.l_mark = yylval;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
        *++yystack.p_mark = yylloc;
#endif
        yychar = YYEMPTY;
        if (yyerrflag > 0)  --yyerrflag;
        goto yyloop;
    }
    if (((yyn = yyrindex[yystate]) != 0) && (yyn += yychar) >= 0 &&
            yyn <= YYTABLESIZE && yycheck[yyn] == (YYINT) yychar)
    {
        yyn = yytable[yyn];
        goto yyreduce;
    }
    if (yyerrflag != 0) goto yyinrecovery;
#if YYBTYACC

    yynewerrflag = 1;
    goto yyerrhandler;
    goto yyerrlab; /* redundant goto avoids 'unused label' warning */

yyerrlab:
    /* explicit YYERROR from an action -- pop the rhs of the rule reduced
     * before looking for error recovery */
    yystack.s_mark -= yym;
    yystate = *yystack.s_mark;
    yystack.l_mark -= yym;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    yystack.p_mark -= yym;
#endif

    yynewerrflag = 0;
yyerrhandler:
    while (yyps->save)
    {
        int ctry;
        YYParseState *save = yyps->save;
#if YYDEBUG
        if (yydebug)
            fprintf(stderr, "%s[%d]: ERROR in state %d, CONFLICT BACKTRACKING to state %d, %d tokens\n",
                            YYDEBUGSTR, yydepth, yystate, yyps->save->state,
                    (int)(yylvp - yylvals - yyps->save->lexeme));
#endif
        /* Memorize most forward-looking error state in case it's really an error. */
        if (yyerrctx == NULL || yyerrctx->lexeme < yylvp - yylvals)
        {
            /* Free old saved error context state */
            if (yyerrctx) yyFreeState(yyerrctx);
            /* Create and fill out new saved error context state */
            yyerrctx                 = yyNewState((unsigned)(yystack.s_mark - yystack.s_base + 1));
            if (yyerrctx == NULL) goto yyenomem;
            yyerrctx->save           = yyps->save;
            yyerrctx->state          = yystate;
            yyerrctx->errflag        = yyerrflag;
            yyerrctx->yystack.s_mark = yyerrctx->yystack.s_base + (yystack.s_mark - yystack.s_base);
            memcpy (yyerrctx->yystack.s_base, yystack.s_base, (size_t) (yystack.s_mark - yystack.s_base + 1) * sizeof(YYINT));
            yyerrctx->yystack.l_mark = yyerrctx->yystack.l_base + (yystack.l_mark - yystack.l_base);
            memcpy (yyerrctx->yystack.l_base, yystack.l_base, (size_t) (yystack.l_mark - yystack.l_base + 1) * sizeof(YYSTYPE));
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
            yyerrctx->yystack.p_mark = yyerrctx->yystack.p_base + (yystack.p_mark - yystack.p_base);
            memcpy (yyerrctx->yystack.p_base, yystack.p_base, (size_t) (yystack.p_mark - yystack.p_base + 1) * sizeof(YYLTYPE));
#endif
            yyerrctx->lexeme         = (int) (yylvp - yylvals);
        }
        yylvp          = yylvals   + save->lexeme;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
        yylpp          = yylpsns   + save->lexeme;
#endif
        yylexp         = yylexemes + save->lexeme;
        yychar         = YYEMPTY;
        yystack.s_mark = yystack.s_base + (save->yystack.s_mark - save->yystack.s_base);
        memcpy (yystack.s_base, save->yystack.s_base, (size_t) (yystack.s_mark - yystack.s_base + 1) * sizeof(YYINT));
        yystack.l_mark = yystack.l_base + (save->yystack.l_mark - save->yystack.l_base);
        memcpy (yystack.l_base, save->yystack.l_base, (size_t) (yystack.l_mark - yystack.l_base + 1) * sizeof(YYSTYPE));
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
        yystack.p_mark = yystack.p_base + (save->yystack.p_mark - save->yystack.p_base);
        memcpy (yystack.p_base, save->yystack.p_base, (size_t) (yystack.p_mark - yystack.p_base + 1) * sizeof(YYLTYPE));
#endif
        ctry           = ++save->ctry;
        yystate        = save->state;
        /* We tried shift, try reduce now */
        if ((yyn = yyctable[ctry]) >= 0) goto yyreduce;
        yyps->save     = save->save;
        save->save     = NULL;
        yyFreeState(save);

        /* Nothing left on the stack -- error */
        if (!yyps->save)
        {
#if YYDEBUG
            if (yydebug)
                fprintf(stderr, "%sdebug[%d,trial]: trial parse FAILED, entering ERROR mode\n",
                                YYPREFIX, yydepth);
#endif
            /* Restore state as it was in the most forward-advanced error */
            yylvp          = yylvals   + yyerrctx->lexeme;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
            yylpp          = yylpsns   + yyerrctx->lexeme;
#endif
            yylexp         = yylexemes + yyerrctx->lexeme;
            yychar         = yylexp[-1];
            yylval         = yylvp[-1];
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
            yylloc         = yylpp[-1];
#endif
            yystack.s_mark = yystack.s_base + (yyerrctx->yystack.s_mark - yyerrctx->yystack.s_base);
            memcpy (yystack.s_base, yyerrctx->yystack.s_base, (size_t) (yystack.s_mark - yystack.s_base + 1) * sizeof(YYINT));
            yystack.l_mark = yystack.l_base + (yyerrctx->yystack.l_mark - yyerrctx->yystack.l_base);
            memcpy (yystack.l_base, yyerrctx->yystack.l_base, (size_t) (yystack.l_mark - yystack.l_base + 1) * sizeof(YYSTYPE));
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
            yystack.p_mark = yystack.p_base + (yyerrctx->yystack.p_mark - yyerrctx->yystack.p_base);
            memcpy (yystack.p_base, yyerrctx->yystack.p_base, (size_t) (yystack.p_mark - yystack.p_base + 1) * sizeof(YYLTYPE));
#endif
            yystate        = yyerrctx->state;
            yyFreeState(yyerrctx);
            yyerrctx       = NULL;
        }
        yynewerrflag = 1;
    }
    if (yynewerrflag == 0) goto yyinrecovery;
#endif /* YYBTYACC */

    YYERROR_CALL("syntax error");
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    yyerror_loc_range[1] = yylloc; /* lookahead position is error start position */
#endif

#if !YYBTYACC
    goto yyerrlab; /* redundant goto avoids 'unused label' warning */
yyerrlab:
#endif
    ++yynerrs;

yyinrecovery:
    if (yyerrflag < 3)
    {
        yyerrflag = 3;
        for (;;)
        {
            if (((yyn = yysindex[*yystack.s_mark]) != 0) && (yyn += YYERRCODE) >= 0 &&
                    yyn <= YYTABLESIZE && yycheck[yyn] == (YYINT) YYERRCODE)
            {
#if YYDEBUG
                if (yydebug)
                    fprintf(stderr, "%s[%d]: state %d, error recovery shifting to state %d\n",
                                    YYDEBUGSTR, yydepth, *yystack.s_mark, yytable[yyn]);
#endif
                if (yystack.s_mark >= yystack.s_last && yygrowstack(&yystack) == YYENOMEM) goto yyoverflow;
                yystate = yytable[yyn];
                *++yystack.s_mark = yytable[yyn];
                *++yystack.l_mark = yylval;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                /* lookahead position is error end position */
                yyerror_loc_range[2] = yylloc;
                YYLLOC_DEFAULT(yyloc, yyerror_loc_range, 2); /* position of error span */
                *++yystack.p_mark = yyloc;
#endif
                goto yyloop;
            }
            else
            {
#if YYDEBUG
                if (yydebug)
                    fprintf(stderr, "%s[%d]: error recovery discarding state %d\n",
                                    YYDEBUGSTR, yydepth, *yystack.s_mark);
#endif
                if (yystack.s_mark <= yystack.s_base) goto yyabort;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                /* the current TOS position is the error start position */
                yyerror_loc_range[1] = *yystack.p_mark;
#endif
#if defined(YYDESTRUCT_CALL)
#if YYBTYACC
                if (!yytrial)
#endif /* YYBTYACC */
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                    YYDESTRUCT_CALL("error: discarding state",
                                    yystos[*yystack.s_mark], yystack.l_mark, yystack.p_mark);
#else
                    YYDESTRUCT_CALL("error: discarding state",
                                    yystos[*yystack.s_mark], yystack.l_mark);
#endif /* defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED) */
#endif /* defined(YYDESTRUCT_CALL) */
                --yystack.s_mark;
                --yystack.l_mark;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                --yystack.p_mark;
#endif
            }
        }
    }
    else
    {
        if (yychar == YYEOF) goto yyabort;
#if YYDEBUG
        if (yydebug)
        {
            if ((yys = yyname[YYTRANSLATE(yychar)]) == NULL) yys = yyname[YYUNDFTOKEN];
            fprintf(stderr, "%s[%d]: state %d, error recovery discarding token %d (%s)\n",
                            YYDEBUGSTR, yydepth, yystate, yychar, yys);
        }
#endif
#if defined(YYDESTRUCT_CALL)
#if YYBTYACC
        if (!yytrial)
#endif /* YYBTYACC */
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
            YYDESTRUCT_CALL("error: discarding token", yychar, &yylval, &yylloc);
#else
            YYDESTRUCT_CALL("error: discarding token", yychar, &yylval);
#endif /* defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED) */
#endif /* defined(YYDESTRUCT_CALL) */
        yychar = YYEMPTY;
        goto yyloop;
    }

yyreduce:
    yym = yylen[yyn];
#if YYDEBUG
    if (yydebug)
    {
        fprintf(stderr, "%s[%d]: state %d, reducing by rule %d (%s)",
                        YYDEBUGSTR, yydepth, yystate, yyn, yyrule[yyn]);
#ifdef YYSTYPE_TOSTRING
#if YYBTYACC
        if (!yytrial)
#endif /* YYBTYACC */
            if (yym > 0)
            {
                int i;
                fputc('<', stderr);
                for (i = yym; i > 0; i--)
                {
                    if (i != yym) fputs(", ", stderr);
                    fputs(YYSTYPE_TOSTRING(yystos[yystack.s_mark[1-i]],
                                           yystack.l_mark[1-i]), stderr);
                }
                fputc('>', stderr);
            }
#endif
        fputc('\n', stderr);
    }
#endif
    if (yym > 0)
        yyval = yystack.l_mark[1-yym];
    else
        memset(&yyval, 0, sizeof yyval);
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)

    /* Perform position reduction */
    memset(&yyloc, 0, sizeof(yyloc));
#if YYBTYACC
    if (!yytrial)
#endif /* YYBTYACC */
    {
        YYLLOC_DEFAULT(yyloc, &yystack.p_mark[-yym], yym);
        /* just in case YYERROR is invoked within the action, save
           the start of the rhs as the error start position */
        yyerror_loc_range[1] = yystack.p_mark[1-yym];
    }
#endif

    switch (yyn)
    {
case 8:
#line 177 "lib/parse.y"
	{ yyerrok; }
#line 3023 "build-asan/lib/parse.c"
break;
case 9:
#line 180 "lib/parse.y"
	{ include_file(yystack.l_mark[-1].lineno, yystack.l_mark[0].v.string); }
#line 3028 "build-asan/lib/parse.c"
break;
case 10:
#line 183 "lib/parse.y"
	{
			const char	*why;

			if ((why = macro_name_error(yystack.l_mark[-2].v.string)) != NULL)
				perr(yystack.l_mark[-2].lineno, "macro \"%s\": %s", yystack.l_mark[-2].v.string,
				    why);
			else if (symset(yystack.l_mark[-2].v.string, yystack.l_mark[0].v.string, 0) == -1)
				ps.nomem = 1;
			free(yystack.l_mark[-2].v.string);
			free(yystack.l_mark[0].v.string);
		}
#line 3043 "build-asan/lib/parse.c"
break;
case 11:
#line 194 "lib/parse.y"
	{
			const char	*why;
			char		 val[32];

			snprintf(val, sizeof(val), "%lld", (long long)yystack.l_mark[0].v.number);
			if ((why = macro_name_error(yystack.l_mark[-2].v.string)) != NULL)
				perr(yystack.l_mark[-2].lineno, "macro \"%s\": %s", yystack.l_mark[-2].v.string,
				    why);
			else if (symset(yystack.l_mark[-2].v.string, val, 0) == -1)
				ps.nomem = 1;
			free(yystack.l_mark[-2].v.string);
		}
#line 3059 "build-asan/lib/parse.c"
break;
case 12:
#line 208 "lib/parse.y"
	{
			if (ps.conf->cf_project != NULL)
				perr(yystack.l_mark[-1].lineno, "project name given twice");
			set_name(yystack.l_mark[0].lineno, &ps.conf->cf_project, yystack.l_mark[0].v.string,
			    "project");
		}
#line 3069 "build-asan/lib/parse.c"
break;
case 13:
#line 214 "lib/parse.y"
	{
			set_path(yystack.l_mark[0].lineno, &ps.conf->cf_statedir, yystack.l_mark[0].v.string,
			    "state");
		}
#line 3077 "build-asan/lib/parse.c"
break;
case 14:
#line 218 "lib/parse.y"
	{
			parse_port(yystack.l_mark[0].lineno, yystack.l_mark[0].v.number, "broker port",
			    &ps.conf->cf_broker_port);
		}
#line 3085 "build-asan/lib/parse.c"
break;
case 15:
#line 222 "lib/parse.y"
	{
			perr(yystack.l_mark[0].lineno, "broker port \"%s\": not a number",
			    yystack.l_mark[0].v.string);
			free(yystack.l_mark[0].v.string);
		}
#line 3094 "build-asan/lib/parse.c"
break;
case 19:
#line 234 "lib/parse.y"
	{
			parse_duration(yystack.l_mark[0].lineno, "wait graceful", yystack.l_mark[0].v.number, NULL,
			    CONFIG_WAIT_MAX, &ps.conf->cf_wait_graceful);
		}
#line 3102 "build-asan/lib/parse.c"
break;
case 20:
#line 238 "lib/parse.y"
	{
			parse_duration(yystack.l_mark[0].lineno, "wait graceful", 0, yystack.l_mark[0].v.string,
			    CONFIG_WAIT_MAX, &ps.conf->cf_wait_graceful);
			free(yystack.l_mark[0].v.string);
		}
#line 3111 "build-asan/lib/parse.c"
break;
case 21:
#line 243 "lib/parse.y"
	{
			parse_duration(yystack.l_mark[0].lineno, "wait sigterm", yystack.l_mark[0].v.number, NULL,
			    CONFIG_WAIT_MAX, &ps.conf->cf_wait_sigterm);
		}
#line 3119 "build-asan/lib/parse.c"
break;
case 22:
#line 247 "lib/parse.y"
	{
			parse_duration(yystack.l_mark[0].lineno, "wait sigterm", 0, yystack.l_mark[0].v.string,
			    CONFIG_WAIT_MAX, &ps.conf->cf_wait_sigterm);
			free(yystack.l_mark[0].v.string);
		}
#line 3128 "build-asan/lib/parse.c"
break;
case 23:
#line 252 "lib/parse.y"
	{
			parse_duration(yystack.l_mark[0].lineno, "wait sigkill", yystack.l_mark[0].v.number, NULL,
			    CONFIG_WAIT_MAX, &ps.conf->cf_wait_sigkill);
		}
#line 3136 "build-asan/lib/parse.c"
break;
case 24:
#line 256 "lib/parse.y"
	{
			parse_duration(yystack.l_mark[0].lineno, "wait sigkill", 0, yystack.l_mark[0].v.string,
			    CONFIG_WAIT_MAX, &ps.conf->cf_wait_sigkill);
			free(yystack.l_mark[0].v.string);
		}
#line 3145 "build-asan/lib/parse.c"
break;
case 27:
#line 271 "lib/parse.y"
	{ image_end(); }
#line 3150 "build-asan/lib/parse.c"
break;
case 28:
#line 272 "lib/parse.y"
	{
			yyerrok;
			image_end();
		}
#line 3158 "build-asan/lib/parse.c"
break;
case 29:
#line 278 "lib/parse.y"
	{ image_begin(yystack.l_mark[0].lineno, yystack.l_mark[0].v.string); }
#line 3163 "build-asan/lib/parse.c"
break;
case 33:
#line 285 "lib/parse.y"
	{ yyerrok; }
#line 3168 "build-asan/lib/parse.c"
break;
case 35:
#line 289 "lib/parse.y"
	{ ps.art = &ps.image->img_disk; }
#line 3173 "build-asan/lib/parse.c"
break;
case 36:
#line 290 "lib/parse.y"
	{ ps.art = &ps.image->img_disk; }
#line 3178 "build-asan/lib/parse.c"
break;
case 37:
#line 291 "lib/parse.y"
	{
			if (strlen(yystack.l_mark[0].v.string) > CONFIG_CMDLINE_MAX) {
				perr(yystack.l_mark[0].lineno, "cmdline is longer than %d "
				    "characters", CONFIG_CMDLINE_MAX);
				free(yystack.l_mark[0].v.string);
			} else {
				free(ps.image->img_cmdline);
				ps.image->img_cmdline = yystack.l_mark[0].v.string;
			}
		}
#line 3192 "build-asan/lib/parse.c"
break;
case 38:
#line 303 "lib/parse.y"
	{
			ps.art = &ps.image->img_kernel;
			ps.kernel = 1;
		}
#line 3200 "build-asan/lib/parse.c"
break;
case 39:
#line 309 "lib/parse.y"
	{
			ps.art = &ps.image->img_initrd;
			ps.initrd = 1;
		}
#line 3208 "build-asan/lib/parse.c"
break;
case 41:
#line 316 "lib/parse.y"
	{ yyerrok; }
#line 3213 "build-asan/lib/parse.c"
break;
case 45:
#line 322 "lib/parse.y"
	{ yyerrok; }
#line 3218 "build-asan/lib/parse.c"
break;
case 46:
#line 325 "lib/parse.y"
	{ artifact_url(yystack.l_mark[0].lineno, yystack.l_mark[0].v.string); }
#line 3223 "build-asan/lib/parse.c"
break;
case 47:
#line 326 "lib/parse.y"
	{
			parse_hex(yystack.l_mark[0].lineno, yystack.l_mark[0].v.string, SHA256_HEX_LEN,
			    ps.art->a_sha256);
			free(yystack.l_mark[0].v.string);
		}
#line 3232 "build-asan/lib/parse.c"
break;
case 48:
#line 331 "lib/parse.y"
	{
			parse_hex(yystack.l_mark[0].lineno, yystack.l_mark[0].v.string, SHA512_HEX_LEN,
			    ps.art->a_sha512);
			free(yystack.l_mark[0].v.string);
		}
#line 3241 "build-asan/lib/parse.c"
break;
case 49:
#line 336 "lib/parse.y"
	{
			if (yystack.l_mark[0].v.number <= 0)
				perr(yystack.l_mark[0].lineno, "size must be positive");
			else
				ps.art->a_size = yystack.l_mark[0].v.number;
		}
#line 3251 "build-asan/lib/parse.c"
break;
case 50:
#line 342 "lib/parse.y"
	{
			uint64_t	 n;

			if (parse_scaled(yystack.l_mark[0].v.string, "KMGT", &n) == -1)
				perr(yystack.l_mark[0].lineno, "size \"%s\": %s", yystack.l_mark[0].v.string,
				    errno == ERANGE ? "too large" : "use a "
				    "number of bytes, or K, M, G or T after it");
			else if (n == 0)
				perr(yystack.l_mark[0].lineno, "size must be positive");
			else
				ps.art->a_size = n;
			free(yystack.l_mark[0].v.string);
		}
#line 3268 "build-asan/lib/parse.c"
break;
case 51:
#line 357 "lib/parse.y"
	{ vm_end(); }
#line 3273 "build-asan/lib/parse.c"
break;
case 52:
#line 358 "lib/parse.y"
	{
			yyerrok;
			vm_end();
		}
#line 3281 "build-asan/lib/parse.c"
break;
case 53:
#line 364 "lib/parse.y"
	{ vm_begin(yystack.l_mark[0].lineno, yystack.l_mark[0].v.string); }
#line 3286 "build-asan/lib/parse.c"
break;
case 57:
#line 370 "lib/parse.y"
	{ yyerrok; }
#line 3291 "build-asan/lib/parse.c"
break;
case 58:
#line 373 "lib/parse.y"
	{
			set_name(yystack.l_mark[0].lineno, &ps.vm->vm_image, yystack.l_mark[0].v.string, "image");
		}
#line 3298 "build-asan/lib/parse.c"
break;
case 59:
#line 376 "lib/parse.y"
	{
			set_path(yystack.l_mark[0].lineno, &ps.vm->vm_disk, yystack.l_mark[0].v.string, "disk");
		}
#line 3305 "build-asan/lib/parse.c"
break;
case 60:
#line 379 "lib/parse.y"
	{
			if (yystack.l_mark[0].v.number < 1 || yystack.l_mark[0].v.number > CONFIG_CPUS_MAX)
				perr(yystack.l_mark[0].lineno, "cpus must be between 1 and "
				    "%d", CONFIG_CPUS_MAX);
			else
				ps.vm->vm_cpus = yystack.l_mark[0].v.number;
		}
#line 3316 "build-asan/lib/parse.c"
break;
case 61:
#line 386 "lib/parse.y"
	{
			parse_memory(yystack.l_mark[0].lineno, yystack.l_mark[0].v.number, NULL,
			    &ps.vm->vm_memory_mib);
		}
#line 3324 "build-asan/lib/parse.c"
break;
case 62:
#line 390 "lib/parse.y"
	{
			parse_memory(yystack.l_mark[0].lineno, 0, yystack.l_mark[0].v.string,
			    &ps.vm->vm_memory_mib);
			free(yystack.l_mark[0].v.string);
		}
#line 3333 "build-asan/lib/parse.c"
break;
case 63:
#line 395 "lib/parse.y"
	{
			if (yystack.l_mark[0].v.number < 1 || yystack.l_mark[0].v.number > CONFIG_COUNT_MAX)
				perr(yystack.l_mark[0].lineno, "count must be between 1 and "
				    "%d", CONFIG_COUNT_MAX);
			else
				ps.vm->vm_count = yystack.l_mark[0].v.number;
		}
#line 3344 "build-asan/lib/parse.c"
break;
case 64:
#line 402 "lib/parse.y"
	{
			vm_forward(yystack.l_mark[-5].lineno, yystack.l_mark[-4].v.number, yystack.l_mark[-3].v.number, yystack.l_mark[-1].v.number, yystack.l_mark[0].v.string);
		}
#line 3351 "build-asan/lib/parse.c"
break;
case 66:
#line 406 "lib/parse.y"
	{ vm_env(yystack.l_mark[-1].lineno, yystack.l_mark[-1].v.string, yystack.l_mark[0].v.string); }
#line 3356 "build-asan/lib/parse.c"
break;
case 67:
#line 407 "lib/parse.y"
	{ vm_depends(yystack.l_mark[0].lineno, yystack.l_mark[0].v.string); }
#line 3361 "build-asan/lib/parse.c"
break;
case 68:
#line 410 "lib/parse.y"
	{ yyval.v.number = FORWARD_TCP; }
#line 3366 "build-asan/lib/parse.c"
break;
case 69:
#line 411 "lib/parse.y"
	{ yyval.v.number = FORWARD_TCP; }
#line 3371 "build-asan/lib/parse.c"
break;
case 70:
#line 412 "lib/parse.y"
	{ yyval.v.number = FORWARD_UDP; }
#line 3376 "build-asan/lib/parse.c"
break;
case 71:
#line 415 "lib/parse.y"
	{ yyval.v.string = NULL; }
#line 3381 "build-asan/lib/parse.c"
break;
case 72:
#line 416 "lib/parse.y"
	{ yyval.v.string = yystack.l_mark[0].v.string; }
#line 3386 "build-asan/lib/parse.c"
break;
case 75:
#line 423 "lib/parse.y"
	{ ps.vm->vm_bootstrap = BOOTSTRAP_AUTO; }
#line 3391 "build-asan/lib/parse.c"
break;
case 76:
#line 424 "lib/parse.y"
	{ ps.vm->vm_bootstrap = BOOTSTRAP_SKIP; }
#line 3396 "build-asan/lib/parse.c"
break;
case 77:
#line 425 "lib/parse.y"
	{ ps.vm->vm_bootstrap = BOOTSTRAP_ALWAYS; }
#line 3401 "build-asan/lib/parse.c"
break;
case 78:
#line 426 "lib/parse.y"
	{
			set_path(yystack.l_mark[0].lineno, &ps.vm->vm_bootstrap_dir, yystack.l_mark[0].v.string,
			    "bootstrap dir");
		}
#line 3409 "build-asan/lib/parse.c"
break;
case 79:
#line 430 "lib/parse.y"
	{
			parse_duration(yystack.l_mark[0].lineno, "bootstrap timeout", yystack.l_mark[0].v.number,
			    NULL, CONFIG_BOOTSTRAP_TIMEOUT_MAX,
			    &ps.vm->vm_bootstrap_timeout);
		}
#line 3418 "build-asan/lib/parse.c"
break;
case 80:
#line 435 "lib/parse.y"
	{
			parse_duration(yystack.l_mark[0].lineno, "bootstrap timeout", 0, yystack.l_mark[0].v.string,
			    CONFIG_BOOTSTRAP_TIMEOUT_MAX,
			    &ps.vm->vm_bootstrap_timeout);
			free(yystack.l_mark[0].v.string);
		}
#line 3428 "build-asan/lib/parse.c"
break;
case 81:
#line 441 "lib/parse.y"
	{
			if (*yystack.l_mark[0].v.string == '\0') {
				perr(yystack.l_mark[0].lineno, "verify command is empty");
				free(yystack.l_mark[0].v.string);
			} else {
				free(ps.vm->vm_verify);
				ps.vm->vm_verify = yystack.l_mark[0].v.string;
			}
		}
#line 3441 "build-asan/lib/parse.c"
break;
#line 3443 "build-asan/lib/parse.c"
    default:
        break;
    }
    yystack.s_mark -= yym;
    yystate = *yystack.s_mark;
    yystack.l_mark -= yym;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    yystack.p_mark -= yym;
#endif
    yym = yylhs[yyn];
    if (yystate == 0 && yym == 0)
    {
#if YYDEBUG
        if (yydebug)
        {
            fprintf(stderr, "%s[%d]: after reduction, ", YYDEBUGSTR, yydepth);
#ifdef YYSTYPE_TOSTRING
#if YYBTYACC
            if (!yytrial)
#endif /* YYBTYACC */
                fprintf(stderr, "result is <%s>, ", YYSTYPE_TOSTRING(yystos[YYFINAL], yyval));
#endif
            fprintf(stderr, "shifting from state 0 to final state %d\n", YYFINAL);
        }
#endif
        yystate = YYFINAL;
        *++yystack.s_mark = YYFINAL;
        *++yystack.l_mark = yyval;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
        *++yystack.p_mark = yyloc;
#endif
        if (yychar < 0)
        {
#if YYBTYACC
            do {
            if (yylvp < yylve)
            {
                /* we're currently re-reading tokens */
                yylval = *yylvp++;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                yylloc = *yylpp++;
#endif
                yychar = *yylexp++;
                break;
            }
            if (yyps->save)
            {
                /* in trial mode; save scanner results for future parse attempts */
                if (yylvp == yylvlim)
                {   /* Enlarge lexical value queue */
                    size_t p = (size_t) (yylvp - yylvals);
                    size_t s = (size_t) (yylvlim - yylvals);

                    s += YYLVQUEUEGROWTH;
                    if ((yylexemes = (YYINT *)realloc(yylexemes, s * sizeof(YYINT))) == NULL)
                        goto yyenomem;
                    if ((yylvals   = (YYSTYPE *)realloc(yylvals, s * sizeof(YYSTYPE))) == NULL)
                        goto yyenomem;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                    if ((yylpsns   = (YYLTYPE *)realloc(yylpsns, s * sizeof(YYLTYPE))) == NULL)
                        goto yyenomem;
#endif
                    yylvp   = yylve = yylvals + p;
                    yylvlim = yylvals + s;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                    yylpp   = yylpe = yylpsns + p;
                    yylplim = yylpsns + s;
#endif
                    yylexp  = yylexemes + p;
                }
                *yylexp = (YYINT) YYLEX;
                *yylvp++ = yylval;
                yylve++;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
                *yylpp++ = yylloc;
                yylpe++;
#endif
                yychar = *yylexp++;
                break;
            }
            /* normal operation, no conflict encountered */
#endif /* YYBTYACC */
            yychar = YYLEX;
#if YYBTYACC
            } while (0);
#endif /* YYBTYACC */
            if (yychar < 0) yychar = YYEOF;
#if YYDEBUG
            if (yydebug)
            {
                if ((yys = yyname[YYTRANSLATE(yychar)]) == NULL) yys = yyname[YYUNDFTOKEN];
                fprintf(stderr, "%s[%d]: state %d, reading token %d (%s)\n",
                                YYDEBUGSTR, yydepth, YYFINAL, yychar, yys);
            }
#endif
        }
        if (yychar == YYEOF) goto yyaccept;
        goto yyloop;
    }
    if (((yyn = yygindex[yym]) != 0) && (yyn += yystate) >= 0 &&
            yyn <= YYTABLESIZE && yycheck[yyn] == (YYINT) yystate)
        yystate = yytable[yyn];
    else
        yystate = yydgoto[yym];
#if YYDEBUG
    if (yydebug)
    {
        fprintf(stderr, "%s[%d]: after reduction, ", YYDEBUGSTR, yydepth);
#ifdef YYSTYPE_TOSTRING
#if YYBTYACC
        if (!yytrial)
#endif /* YYBTYACC */
            fprintf(stderr, "result is <%s>, ", YYSTYPE_TOSTRING(yystos[yystate], yyval));
#endif
        fprintf(stderr, "shifting from state %d to state %d\n", *yystack.s_mark, yystate);
    }
#endif
    if (yystack.s_mark >= yystack.s_last && yygrowstack(&yystack) == YYENOMEM) goto yyoverflow;
    *++yystack.s_mark = (YYINT) yystate;
    *++yystack.l_mark = yyval;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    *++yystack.p_mark = yyloc;
#endif
    goto yyloop;
#if YYBTYACC

    /* Reduction declares that this path is valid. Set yypath and do a full parse */
yyvalid:
    if (yypath) YYABORT;
    while (yyps->save)
    {
        YYParseState *save = yyps->save;
        yyps->save = save->save;
        save->save = yypath;
        yypath = save;
    }
#if YYDEBUG
    if (yydebug)
        fprintf(stderr, "%s[%d]: state %d, CONFLICT trial successful, backtracking to state %d, %d tokens\n",
                        YYDEBUGSTR, yydepth, yystate, yypath->state, (int)(yylvp - yylvals - yypath->lexeme));
#endif
    if (yyerrctx)
    {
        yyFreeState(yyerrctx);
        yyerrctx = NULL;
    }
    yylvp          = yylvals + yypath->lexeme;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    yylpp          = yylpsns + yypath->lexeme;
#endif
    yylexp         = yylexemes + yypath->lexeme;
    yychar         = YYEMPTY;
    yystack.s_mark = yystack.s_base + (yypath->yystack.s_mark - yypath->yystack.s_base);
    memcpy (yystack.s_base, yypath->yystack.s_base, (size_t) (yystack.s_mark - yystack.s_base + 1) * sizeof(YYINT));
    yystack.l_mark = yystack.l_base + (yypath->yystack.l_mark - yypath->yystack.l_base);
    memcpy (yystack.l_base, yypath->yystack.l_base, (size_t) (yystack.l_mark - yystack.l_base + 1) * sizeof(YYSTYPE));
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
    yystack.p_mark = yystack.p_base + (yypath->yystack.p_mark - yypath->yystack.p_base);
    memcpy (yystack.p_base, yypath->yystack.p_base, (size_t) (yystack.p_mark - yystack.p_base + 1) * sizeof(YYLTYPE));
#endif
    yystate        = yypath->state;
    goto yyloop;
#endif /* YYBTYACC */

yyoverflow:
    YYERROR_CALL("yacc stack overflow");
#if YYBTYACC
    goto yyabort_nomem;
yyenomem:
    YYERROR_CALL("memory exhausted");
yyabort_nomem:
#endif /* YYBTYACC */
    yyresult = 2;
    goto yyreturn;

yyabort:
    yyresult = 1;
    goto yyreturn;

yyaccept:
#if YYBTYACC
    if (yyps->save) goto yyvalid;
#endif /* YYBTYACC */
    yyresult = 0;

yyreturn:
#if defined(YYDESTRUCT_CALL)
    if (yychar != YYEOF && yychar != YYEMPTY)
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
        YYDESTRUCT_CALL("cleanup: discarding token", yychar, &yylval, &yylloc);
#else
        YYDESTRUCT_CALL("cleanup: discarding token", yychar, &yylval);
#endif /* defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED) */

    {
        YYSTYPE *pv;
#if defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED)
        YYLTYPE *pp;

        for (pv = yystack.l_base, pp = yystack.p_base; pv <= yystack.l_mark; ++pv, ++pp)
             YYDESTRUCT_CALL("cleanup: discarding state",
                             yystos[*(yystack.s_base + (pv - yystack.l_base))], pv, pp);
#else
        for (pv = yystack.l_base; pv <= yystack.l_mark; ++pv)
             YYDESTRUCT_CALL("cleanup: discarding state",
                             yystos[*(yystack.s_base + (pv - yystack.l_base))], pv);
#endif /* defined(YYLTYPE) || defined(YYLTYPE_IS_DECLARED) */
    }
#endif /* defined(YYDESTRUCT_CALL) */

#if YYBTYACC
    if (yyerrctx)
    {
        yyFreeState(yyerrctx);
        yyerrctx = NULL;
    }
    while (yyps)
    {
        YYParseState *save = yyps;
        yyps = save->save;
        save->save = NULL;
        yyFreeState(save);
    }
    while (yypath)
    {
        YYParseState *save = yypath;
        yypath = save->save;
        save->save = NULL;
        yyFreeState(save);
    }
#endif /* YYBTYACC */
    yyfreestack(&yystack);
    return (yyresult);
}
