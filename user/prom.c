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
	size_t nl = strlen(name), n;

	prom_append(b, "# HELP ", 7);
	prom_append(b, name, nl);
	prom_append(b, " ", 1);
	/* HELP text escapes only backslash and newline */
	for (; *help; help += n) {
		n = strcspn(help, "\\\n");
		prom_append(b, help, n);
		if (!help[n])
			break;
		prom_append(b, help[n] == '\\' ? "\\\\" : "\\n", 2);
		n++;
	}
	prom_append(b, "\n# TYPE ", 8);
	prom_append(b, name, nl);
	prom_append(b, " ", 1);
	prom_append(b, type, strlen(type));
	prom_append(b, "\n", 1);
}

void prom_escape(struct prom_buf *b, const char *s)
{
	size_t n;

	for (; *s; s += n + 1) {
		n = strcspn(s, "\\\"\n");
		prom_append(b, s, n);
		if (!s[n])
			break;
		prom_append(b, s[n] == '\\' ? "\\\\" : s[n] == '"' ? "\\\"" : "\\n", 2);
	}
}

/* Writes u's decimal digits ending just before end; returns where they start. */
static char *put_uint(char *end, unsigned long long u)
{
	do {
		*--end = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	return end;
}

/*
 * Go's float form from significant digits d[0..nd) (no trailing zeros needed) and decimal
 * exponent exp (v = d[0].d[1]... x 10^exp): %e form "d.ddde+XX" when exp < -4 or exp >= 6,
 * else plain decimals.
 */
static void put_digits(struct prom_buf *b, bool neg, const char *d, int nd, int exp)
{
	char out[48], *o = out;

	if (neg)
		*o++ = '-';
	if (exp < -4 || exp >= 6) {
		*o++ = d[0];
		if (nd > 1) {
			*o++ = '.';
			memcpy(o, d + 1, (size_t)nd - 1);
			o += nd - 1;
		}
		*o++ = 'e';
		*o++ = exp < 0 ? '-' : '+';
		if (exp < 0)
			exp = -exp;
		if (exp >= 100)
			*o++ = (char)('0' + exp / 100);
		*o++ = (char)('0' + exp / 10 % 10);
		*o++ = (char)('0' + exp % 10);
	} else if (exp >= 0) {
		for (int i = 0; i <= exp; i++)
			*o++ = i < nd ? d[i] : '0';
		if (nd > exp + 1) {
			*o++ = '.';
			memcpy(o, d + exp + 1, (size_t)(nd - exp - 1));
			o += nd - exp - 1;
		}
	} else {
		*o++ = '0';
		*o++ = '.';
		for (int i = -1; i > exp; i--)
			*o++ = '0';
		memcpy(o, d, (size_t)nd);
		o += nd;
	}
	prom_append(b, out, (size_t)(o - out));
}

/* The shortest-digits search one precision at a time: the reference, for subnormals and huge. */
static void value_slow(struct prom_buf *b, double v)
{
	char buf[32];
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

void prom_value(struct prom_buf *b, double v)
{
	char buf[40], digits[24], *d, *e;
	double a = fabs(v);
	int nd, exp;

	if (isnan(v)) {
		prom_append(b, "NaN", 3);
		return;
	}
	if (isinf(v)) {
		prom_append(b, v > 0 ? "+Inf" : "-Inf", 4);
		return;
	}
	/*
	 * Integers below 2^53 are exact, and dropping any non-zero digit moves them by more than
	 * half a unit in the last place: their shortest digits are their own, zeros trimmed.
	 */
	if (a < 9007199254740992.0 && v == (double)(long long)v) {
		d = put_uint(buf + sizeof(buf), (unsigned long long)a);
		nd = (int)(buf + sizeof(buf) - d);
		if (a < 1e6) {
			if (v < 0)
				*--d = '-';
			prom_append(b, d, (size_t)(buf + sizeof(buf) - d));
			return;
		}
		exp = nd - 1;
		while (d[nd - 1] == '0')
			nd--;
		put_digits(b, v < 0, d, nd, exp);
		return;
	}
	if (a < 2.2250738585072014e-308 || a > 1e300) {
		value_slow(b, v);
		return;
	}
	/*
	 * Go's strconv 'g' -1: the shortest digits that read back as the same double. Every
	 * decimal of up to 15 digits survives a trip through a (normal) double (DBL_DIG), so if
	 * the shortest has at most 15 digits it is the 15-digit rounding with its zeros trimmed;
	 * else it is the 16-digit rounding if that reads back, else the 17-digit one.
	 */
	for (int prec = 14;; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec, a);
		e = strchr(buf, 'e');
		nd = 0;
		for (const char *p = buf; p < e; p++)
			if (*p != '.')
				digits[nd++] = *p;
		if (prec == 14)
			while (nd > 1 && digits[nd - 1] == '0')
				nd--;
		/* 17 digits always read back; trimmed zeros do not change what buf reads as */
		if (prec == 16 || strtod(buf, NULL) == a)
			break;
	}
	exp = atoi(e + 1);
	put_digits(b, v < 0, digits, nd, exp);
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
			prom_append(b, labels[i], strlen(labels[i]));
			prom_append(b, "=\"", 2);
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
