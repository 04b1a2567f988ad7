// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "prom.h"

static struct prom_source sources[PROM_MAX_SOURCES];
static unsigned nsources;

void prom_buf_init(struct prom_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void prom_buf_free(struct prom_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void prom_buf_reset(struct prom_buf *b)
{
	b->len = 0;
	b->err = 0;
	if (b->data)
		b->data[0] = '\0';
}

static int reserve(struct prom_buf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->err)
		return b->err;
	if (b->len + n + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n + 1)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		return b->err = -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

void prom_append(struct prom_buf *b, const char *s, size_t n)
{
	if (reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void prom_printf(struct prom_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void prom_family(struct prom_buf *b, const char *name, const char *type, const char *help)
{
	prom_printf(b, "# HELP %s ", name);
	/* HELP text escapes only backslash and newline */
	for (const char *p = help; *p; p++) {
		if (*p == '\\')
			prom_append(b, "\\\\", 2);
		else if (*p == '\n')
			prom_append(b, "\\n", 2);
		else
			prom_append(b, p, 1);
	}
	prom_printf(b, "\n# TYPE %s %s\n", name, type);
}

void prom_escape(struct prom_buf *b, const char *s)
{
	const char *run = s;

	for (; *s; s++) {
		const char *esc = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" : NULL;

		if (!esc)
			continue;
		prom_append(b, run, (size_t)(s - run));
		prom_append(b, esc, 2);
		run = s + 1;
	}
	prom_append(b, run, (size_t)(s - run));
}

void prom_value(struct prom_buf *b, double v)
{
	char buf[32];

	if (isnan(v)) {
		prom_append(b, "NaN", 3);
		return;
	}
	if (isinf(v)) {
		prom_append(b, v > 0 ? "+Inf" : "-Inf", 4);
		return;
	}
	if (v == (double)(long long)v && fabs(v) < 1e6) {
		prom_printf(b, "%lld", (long long)v);
		return;
	}
	/*
	 * Go's strconv 'g' -1: the shortest digits that read back as the same double, in
	 * exponent form when the exponent is < -4 or >= 6 (2466170 -> 2.46617e+06).
	 */
	int prec, exp;

	for (prec = 0; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	exp = atoi(strchr(buf, 'e') + 1);
	if (exp >= -4 && exp < 6)
		snprintf(buf, sizeof(buf), "%.*f", prec > exp ? prec - exp : 0, v);
	prom_append(b, buf, strlen(buf));
}

void prom_sample(struct prom_buf *b, const char *name, const char *const *labels, double v)
{
	bool first = true;

	prom_append(b, name, strlen(name));
	if (labels) {
		for (unsigned i = 0; labels[i]; i += 2) {
			if (!labels[i + 1])
				continue;
			prom_append(b, first ? "{" : ",", 1);
			first = false;
			prom_printf(b, "%s=\"", labels[i]);
			prom_escape(b, labels[i + 1]);
			prom_append(b, "\"", 1);
		}
		if (!first)
			prom_append(b, "}", 1);
	}
	prom_append(b, " ", 1);
	prom_value(b, v);
	prom_append(b, "\n", 1);
}

int prom_register_source(const char *name, int (*write)(struct prom_buf *b, void *ctx), void *ctx)
{
	if (nsources == PROM_MAX_SOURCES) {
		log_error("prom: too many metric sources (registering %s)", name);
		return -ENOSPC;
	}
	sources[nsources++] = (struct prom_source){ .name = name, .write = write, .ctx = ctx };
	return 0;
}

int prom_collect_sources(struct prom_buf *b)
{
	int err, ret = 0;

	for (unsigned i = 0; i < nsources; i++) {
		err = sources[i].write(b, sources[i].ctx);
		if (err) {
			log_warn("prom: source %s failed: %s", sources[i].name, strerror(-err));
			ret = err;
		}
	}
	return b->err ? b->err : ret;
}
