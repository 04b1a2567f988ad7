/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * RED metrics computed in the agent from finished spans: the semconv histogram
 * http.server.request.duration (seconds, cumulative since the agent started) per service,
 * method, route and status, with the latest exemplar per bucket. red_record() runs in the main
 * thread; snapshots and the Prometheus source run in other threads, under a lock.
 *
 * Series are bounded by --red-max-series (default 2000): once reached, requests of a new
 * attribute set go to one overflow series per service carrying only otel.metric.overflow=true
 * (the OTel SDK cardinality-limit convention), and are counted.
 */
#ifndef O11Y_RED_H
#define O11Y_RED_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "prom.h"
#include "span.h"

#define RED_NBOUNDS 14
#define RED_NBUCKETS (RED_NBOUNDS + 1)
#define RED_MAX_SERVICES                                                                           \
	256 /* spans of services past this are not counted (but counted as folded) */

extern const double red_bounds[RED_NBOUNDS];

struct red_exemplar {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	double value;	  /* seconds */
	uint64_t time_ns; /* unix ns of the request's end; 0: no exemplar */
};

struct red_series {
	char service[SPAN_NAME_MAX];
	char exe[SPAN_NAME_MAX]; /* process.executable.name of the first request seen */
	struct span_k8s k8s;     /* container and pod of the first request seen; series are per pod */
	char method[SPAN_METHOD_MAX];
	char route[SPAN_ROUTE_MAX];
	uint16_t status;
	bool overflow; /* the per-service overflow series: no attributes but the marker */
	uint64_t count;
	double sum, min, max;
	uint64_t buckets[RED_NBUCKETS];
	struct red_exemplar ex[RED_NBUCKETS];
};

extern const struct opt_table red_opt_table;

/* Sets the start time and registers the Prometheus source. Returns 0 or -errno. */
int red_init(void);
/* Resets all series and sets the cap (tests; red_init uses the config). */
void red_setup(unsigned max_series);
void red_fini(void);
/* Index of the bucket a duration in seconds falls in: upper bounds are inclusive. */
unsigned red_bucket(double seconds);
/* "GET", ... for the methods semconv knows, else "_OTHER". */
const char *red_method(const char *method);
void red_record(const struct http_span *s);
/*
 * Copies every series into a new array the caller frees. *start_ns: unix ns the cumulative
 * counts started at. Returns 0 or -ENOMEM.
 */
int red_snapshot(struct red_series **out, unsigned *n, uint64_t *start_ns);
/* The Prometheus source: http_server_request_duration_seconds and o11y_ebpf_red_*. */
int red_prom_write(struct prom_buf *b, void *ctx);
/* Requests counted in an overflow series (or not at all, past RED_MAX_SERVICES). */
uint64_t red_folded_total(void);

#endif
