/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Prometheus text exposition format 0.0.4: a growing buffer that collectors write families and
 * samples into, and the registry of sources the /metrics handler calls at scrape time.
 */
#ifndef O11Y_PROM_H
#define O11Y_PROM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct prom_buf {
	char *data;
	size_t len, cap;
	int err; /* -ENOMEM once an append failed; the buffer is then incomplete */
};

void prom_buf_init(struct prom_buf *b);
void prom_buf_free(struct prom_buf *b);
void prom_buf_reset(struct prom_buf *b);
void prom_append(struct prom_buf *b, const char *s, size_t n);
void prom_printf(struct prom_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "# HELP name help" and "# TYPE name type"; type is counter, gauge, histogram, untyped. */
void prom_family(struct prom_buf *b, const char *name, const char *type, const char *help);
/*
 * One sample line. labels: NULL, or a NULL-terminated array of alternating names and values;
 * values are escaped (\\, \", \n). Pairs whose value is NULL are skipped.
 */
void prom_sample(struct prom_buf *b, const char *name, const char *const *labels, double v);
/* Appends a value the way Prometheus and Go print floats: shortest round-trip form, +Inf, NaN. */
void prom_value(struct prom_buf *b, double v);
/* Appends s escaped as a label value. */
void prom_escape(struct prom_buf *b, const char *s);

/*
 * A source of samples for /metrics: write() appends whole families to b and returns 0 or
 * -errno. It runs in the HTTP server's thread, so it must lock whatever it shares.
 */
struct prom_source {
	const char *name;
	int (*write)(struct prom_buf *b, void *ctx);
	void *ctx;
};

/* Registers a source; at most PROM_MAX_SOURCES. Call before the server starts. */
#define PROM_MAX_SOURCES 16
int prom_register_source(const char *name, int (*write)(struct prom_buf *b, void *ctx), void *ctx);
/* Calls every registered source, in registration order, into b. */
int prom_collect_sources(struct prom_buf *b);

#endif
