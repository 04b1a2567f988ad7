/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One table of options per module drives parsing of flags and environment variables,
 * validation, --help and the effective-config log line. Environment is applied first,
 * then flags, so a flag wins. Defaults are written as text and parsed like user input.
 */
#ifndef O11Y_CONFIG_H
#define O11Y_CONFIG_H

#include <stdbool.h>

#define CFG_LIST_MAX 64

enum opt_type {
	OPT_BOOL,     /* bool *: --x, --x=true|false, --no-x */
	OPT_INT,      /* long long *, checked against [min, max] */
	OPT_STR,      /* char ** (strdup'ed; the previous value is freed) */
	OPT_ENUM,     /* int *: index into choices */
	OPT_LIST_INT, /* struct cfg_int_list *: repeatable flag, comma-separated env */
	OPT_LIST_STR, /* struct cfg_str_list *: repeatable flag, comma-separated env */
	OPT_CUSTOM,   /* parse() does it; used for prefix flags like --collector.cpu */
};

#define OPT_F_PREFIX                                                                               \
	0x1 /* name ends in '.', matches any flag with that prefix (and --no-<prefix>) */
#define OPT_F_SECRET 0x2 /* the value may hold credentials: the config line shows it redacted */

struct opt;
/* key: the flag as given without leading dashes (or the env name); val: NULL for a bare flag.
 * negated: the flag was written --no-<key>. Returns 0 or -EINVAL; prints nothing. */
typedef int (*opt_parse_fn)(const struct opt *o, const char *key, const char *val, bool negated);

struct opt {
	const char *name; /* flag without the leading "--" */
	const char *env;  /* environment variable, or NULL */
	enum opt_type type;
	void *dst;
	const char *def; /* default as text, or NULL for none */
	long long min, max;
	const char *const *choices; /* OPT_ENUM: NULL-terminated */
	opt_parse_fn parse;	    /* OPT_CUSTOM */
	const char *metavar;	    /* shown in --help, e.g. "PID" */
	const char *help;
	unsigned flags;
};

struct opt_table {
	const char *section; /* heading in --help */
	const struct opt *opts;
	unsigned n;
};

struct cfg_int_list {
	unsigned n;
	long long v[CFG_LIST_MAX];
};

struct cfg_str_list {
	unsigned n;
	char *v[CFG_LIST_MAX];
};

/* Module tables, defined beside the module that owns the settings. */
extern const struct opt_table core_opt_table;
extern const struct opt_table http_opt_table;
extern const struct opt_table route_opt_table, red_opt_table, otlp_opt_table;
extern const struct opt_table host_opt_table;
extern const struct opt_table prom_opt_table, node_opt_table;
extern const struct opt_table k8s_opt_table;
extern const struct opt_table pagecache_opt_table;

/*
 * Applies defaults, then the environment, then argv. Returns 0 to run, 1 when --help or
 * --version was printed (exit 0), or -EINVAL after printing what is wrong (exit 2).
 */
int config_parse(int argc, char **argv);
/* Logs the effective configuration in one line at info level. */
void config_log(void);
/* Frees strings and lists the options own. */
void config_free(void);
/* Parses a bool the way flags and env do ("1/0/true/false/yes/no/on/off"). */
int cfg_parse_bool(const char *s, bool *out);
bool cfg_int_list_has(const struct cfg_int_list *l, long long v);

#endif
