// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "log.h"

/* Every module's table; --help lists them in this order. */
static const struct opt_table *const tables[] = {
    &core_opt_table, &http_opt_table, &route_opt_table, &red_opt_table, &otlp_opt_table,
    &host_opt_table, &prom_opt_table, &node_opt_table,	&k8s_opt_table, &pagecache_opt_table,
};
#define NTABLES (sizeof(tables) / sizeof(tables[0]))

/* The text each option was last set from, for the effective-config line. */
struct given {
	const struct opt *o;
	char *text;
};
static struct given given[256];
static unsigned ngiven;

static void remember(const struct opt *o, const char *key, const char *val, bool neg)
{
	char buf[512];
	unsigned i;

	if (o->flags & OPT_F_PREFIX)
		snprintf(buf, sizeof(buf), "%s%s%s%s", neg ? "no-" : "", key, val ? "=" : "",
			 val ? val : "");
	else if (o->flags & OPT_F_SECRET)
		snprintf(buf, sizeof(buf), "(redacted)");
	else
		snprintf(buf, sizeof(buf), "%s", val ? val : (neg ? "false" : "true"));
	for (i = 0; i < ngiven; i++) {
		if (given[i].o == o && !(o->flags & OPT_F_PREFIX) && o->type != OPT_LIST_INT &&
		    o->type != OPT_LIST_STR) {
			free(given[i].text);
			given[i].text = strdup(buf);
			return;
		}
	}
	if (ngiven < sizeof(given) / sizeof(given[0])) {
		given[ngiven].o = o;
		given[ngiven].text = strdup(buf);
		ngiven++;
	}
}

int cfg_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"1", "true", "yes", "on"};
	static const char *const no[] = {"0", "false", "no", "off"};

	for (unsigned i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

bool cfg_int_list_has(const struct cfg_int_list *l, long long v)
{
	for (unsigned i = 0; i < l->n; i++)
		if (l->v[i] == v)
			return true;
	return false;
}

static int parse_ll(const struct opt *o, const char *s, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end != '\0') {
		fprintf(stderr, "o11y-ebpf: --%s: '%s' is not an integer\n", o->name, s);
		return -EINVAL;
	}
	if (v < o->min || v > o->max) {
		fprintf(stderr, "o11y-ebpf: --%s: %lld is out of range [%lld, %lld]\n", o->name, v,
			o->min, o->max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* from_env: a list value is a comma-separated set that replaces the list */
static int apply(const struct opt *o, const char *key, const char *val, bool neg, bool from_env)
{
	int err = 0;

	switch (o->type) {
	case OPT_BOOL:
		if (!val) {
			*(bool *)o->dst = !neg;
		} else if (neg || cfg_parse_bool(val, (bool *)o->dst)) {
			fprintf(stderr, "o11y-ebpf: --%s: '%s' is not a boolean (true/false)\n",
				o->name, val);
			return -EINVAL;
		}
		break;
	case OPT_INT:
		if (!val || neg)
			goto need_value;
		err = parse_ll(o, val, (long long *)o->dst);
		break;
	case OPT_STR: {
		char **dst = o->dst;

		if (!val || neg)
			goto need_value;
		free(*dst);
		*dst = strdup(val);
		break;
	}
	case OPT_ENUM: {
		int i;

		if (!val || neg)
			goto need_value;
		for (i = 0; o->choices[i]; i++) {
			if (strcmp(o->choices[i], val) == 0) {
				*(int *)o->dst = i;
				break;
			}
		}
		if (!o->choices[i]) {
			fprintf(stderr, "o11y-ebpf: --%s: '%s' is not one of:", o->name, val);
			for (i = 0; o->choices[i]; i++)
				fprintf(stderr, " %s", o->choices[i]);
			fputc('\n', stderr);
			return -EINVAL;
		}
		break;
	}
	case OPT_LIST_INT:
	case OPT_LIST_STR: {
		char *copy, *tok, *save = NULL;

		if (!val || neg)
			goto need_value;
		copy = strdup(val);
		if (!copy)
			return -ENOMEM;
		if (from_env) {
			if (o->type == OPT_LIST_INT) {
				((struct cfg_int_list *)o->dst)->n = 0;
			} else {
				struct cfg_str_list *l = o->dst;

				for (unsigned i = 0; i < l->n; i++)
					free(l->v[i]);
				l->n = 0;
			}
		}
		for (tok = strtok_r(copy, from_env ? "," : "", &save); tok && !err;
		     tok = strtok_r(NULL, from_env ? "," : "", &save)) {
			if (o->type == OPT_LIST_INT) {
				struct cfg_int_list *l = o->dst;

				if (l->n == CFG_LIST_MAX) {
					fprintf(stderr, "o11y-ebpf: --%s: at most %d values\n",
						o->name, CFG_LIST_MAX);
					err = -EINVAL;
					break;
				}
				err = parse_ll(o, tok, &l->v[l->n]);
				if (!err)
					l->n++;
			} else {
				struct cfg_str_list *l = o->dst;

				if (l->n == CFG_LIST_MAX) {
					fprintf(stderr, "o11y-ebpf: --%s: at most %d values\n",
						o->name, CFG_LIST_MAX);
					err = -EINVAL;
					break;
				}
				l->v[l->n++] = strdup(tok);
			}
		}
		free(copy);
		break;
	}
	case OPT_CUSTOM:
		err = o->parse(o, key, val, neg);
		if (err)
			fprintf(stderr, "o11y-ebpf: --%s%s%s: invalid value\n", key, val ? "=" : "",
				val ? val : "");
		break;
	}
	if (!err)
		remember(o, key, val, neg);
	return err;

need_value:
	fprintf(stderr, "o11y-ebpf: --%s needs a value\n", o->name);
	return -EINVAL;
}

/* Finds the option for a flag name (without dashes); *neg is set for --no-<name>. */
static const struct opt *lookup(const char *name, size_t len, bool *neg)
{
	for (int pass = 0; pass < 2; pass++) {
		const char *n = name;
		size_t l = len;

		*neg = pass == 1;
		if (*neg) {
			if (len < 3 || strncmp(name, "no-", 3) != 0)
				break;
			n += 3;
			l -= 3;
		}
		for (unsigned t = 0; t < NTABLES; t++) {
			for (unsigned i = 0; i < tables[t]->n; i++) {
				const struct opt *o = &tables[t]->opts[i];
				size_t ol = strlen(o->name);

				if (o->flags & OPT_F_PREFIX) {
					if (l > ol && strncmp(n, o->name, ol) == 0)
						return o;
				} else if (ol == l && strncmp(n, o->name, l) == 0) {
					if (*neg && o->type != OPT_BOOL)
						continue;
					return o;
				}
			}
		}
	}
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: o11y-ebpf [OPTIONS]\n"
		   "Zero-instrumentation observability agent: HTTP server spans and RED metrics\n"
		   "captured with eBPF, exported over OTLP and on a Prometheus endpoint.\n");
	for (unsigned t = 0; t < NTABLES; t++) {
		fprintf(f, "\n%s:\n", tables[t]->section);
		for (unsigned i = 0; i < tables[t]->n; i++) {
			const struct opt *o = &tables[t]->opts[i];
			char flag[128];

			if (o->type == OPT_BOOL)
				snprintf(flag, sizeof(flag), "--[no-]%s", o->name);
			else if (o->flags & OPT_F_PREFIX)
				snprintf(flag, sizeof(flag), "--[no-]%s%s", o->name,
					 o->metavar ? o->metavar : "NAME");
			else
				snprintf(flag, sizeof(flag), "--%s=%s", o->name,
					 o->metavar ? o->metavar : "VALUE");
			fprintf(f, "  %-34s %s", flag, o->help);
			if (o->type == OPT_ENUM) {
				fprintf(f, " (one of:");
				for (int c = 0; o->choices[c]; c++)
					fprintf(f, " %s", o->choices[c]);
				fprintf(f, ")");
			}
			if (o->type == OPT_LIST_INT || o->type == OPT_LIST_STR)
				fprintf(f, " (repeatable)");
			fputc('\n', f);
			if (o->env || o->def)
				fprintf(f, "  %-34s %s%s%s%s%s\n", "", o->env ? "env " : "",
					o->env ? o->env : "", o->env && o->def ? ", " : "",
					o->def ? "default " : "", o->def ? o->def : "");
		}
	}
	fprintf(f, "\n  --help                             this text\n"
		   "  --version                          print the version\n");
}

int config_parse(int argc, char **argv)
{
	int err;

	/* 1. defaults */
	for (unsigned t = 0; t < NTABLES; t++) {
		for (unsigned i = 0; i < tables[t]->n; i++) {
			const struct opt *o = &tables[t]->opts[i];

			if (o->def && (err = apply(o, o->name, o->def, false, true)))
				return err;
		}
	}
	/* the effective-config line lists what differs from the defaults: forget these */
	for (unsigned i = 0; i < ngiven; i++)
		free(given[i].text);
	ngiven = 0;
	/* 2. environment */
	for (unsigned t = 0; t < NTABLES; t++) {
		for (unsigned i = 0; i < tables[t]->n; i++) {
			const struct opt *o = &tables[t]->opts[i];
			const char *v = o->env ? getenv(o->env) : NULL;

			if (v && *v && (err = apply(o, o->name, v, false, true))) {
				fprintf(stderr, "o11y-ebpf: (from environment variable %s)\n",
					o->env);
				return err;
			}
		}
	}
	/* 3. flags */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *name, *eq, *val = NULL;
		const struct opt *o;
		size_t len;
		bool neg;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 1;
		}
		if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
			printf("o11y-ebpf %s\n", O11Y_VERSION);
			return 1;
		}
		if (strncmp(a, "--", 2) != 0 || !a[2]) {
			fprintf(stderr, "o11y-ebpf: unexpected argument '%s' (see --help)\n", a);
			return -EINVAL;
		}
		name = a + 2;
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		o = lookup(name, len, &neg);
		if (!o) {
			fprintf(stderr, "o11y-ebpf: unknown flag '--%.*s' (see --help)\n", (int)len,
				name);
			return -EINVAL;
		}
		if (eq) {
			val = eq + 1;
		} else if (o->type != OPT_BOOL && !(o->flags & OPT_F_PREFIX) && !neg) {
			if (i + 1 >= argc) {
				fprintf(stderr, "o11y-ebpf: --%s needs a value\n", o->name);
				return -EINVAL;
			}
			val = argv[++i];
		}
		char key[256];

		snprintf(key, sizeof(key), "%.*s", (int)(len - (neg ? 3 : 0)),
			 name + (neg ? 3 : 0));
		if ((err = apply(o, key, val, neg, false)))
			return err;
	}
	return 0;
}

void config_log(void)
{
	char line[4096];
	size_t n = 0;

	for (unsigned i = 0; i < ngiven && n < sizeof(line) - 1; i++) {
		const struct opt *o = given[i].o;

		if (o->flags & OPT_F_PREFIX)
			n += snprintf(line + n, sizeof(line) - n, " --%s", given[i].text);
		else
			n += snprintf(line + n, sizeof(line) - n, " --%s=%s", o->name,
				      given[i].text);
	}
	log_info("config (non-default settings):%s", ngiven ? line : " none");
}

void config_free(void)
{
	for (unsigned t = 0; t < NTABLES; t++) {
		for (unsigned i = 0; i < tables[t]->n; i++) {
			const struct opt *o = &tables[t]->opts[i];

			if (o->type == OPT_STR) {
				free(*(char **)o->dst);
				*(char **)o->dst = NULL;
			} else if (o->type == OPT_LIST_STR) {
				struct cfg_str_list *l = o->dst;

				for (unsigned k = 0; k < l->n; k++)
					free(l->v[k]);
				l->n = 0;
			}
		}
	}
	for (unsigned i = 0; i < ngiven; i++)
		free(given[i].text);
	ngiven = 0;
}
