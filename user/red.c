// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cgroup.h"
#include "config.h"
#include "log.h"
#include "red.h"
#include "route.h"
#include "strmap.h"

const double red_bounds[RED_NBOUNDS] = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
					0.5,   0.75, 1,	    2.5,  5,	 7.5, 10};

static long long red_max_series_cfg;

static const struct opt red_opts[] = {
    {.name = "red-max-series",
     .env = "O11Y_RED_MAX_SERIES",
     .type = OPT_INT,
     .dst = &red_max_series_cfg,
     .def = "2000",
     .min = 1,
     .max = 1000000,
     .metavar = "N",
     .help = "http.server.request.duration series kept; requests of later new attribute "
	     "sets go to one overflow series per service"},
};
const struct opt_table red_opt_table = {"RED metrics", red_opts,
					sizeof(red_opts) / sizeof(red_opts[0])};

static pthread_mutex_t red_lock = PTHREAD_MUTEX_INITIALIZER;
static struct red_series *series;
static unsigned nseries, cap_series, nregular, nservices;
static unsigned max_series = 2000;
static struct strmap index_; /* series key -> index in series */
static struct strmap svcs;   /* services seen */
static uint64_t start_ns, folded;

static uint64_t now_unix_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

uint64_t red_folded_total(void)
{
	return __atomic_load_n(&folded, __ATOMIC_RELAXED);
}

unsigned red_bucket(double seconds)
{
	unsigned i;

	for (i = 0; i < RED_NBOUNDS; i++)
		if (seconds <= red_bounds[i])
			break;
	return i;
}

const char *red_method(const char *m)
{
	static const char *const known[] = {"GET",     "HEAD",	  "POST",  "PUT",  "DELETE",
					    "CONNECT", "OPTIONS", "TRACE", "PATCH"};

	for (unsigned i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(m, known[i]) == 0)
			return known[i];
	return "_OTHER";
}

void red_setup(unsigned max)
{
	pthread_mutex_lock(&red_lock);
	free(series);
	series = NULL;
	nseries = cap_series = nregular = nservices = 0;
	strmap_free(&index_);
	strmap_free(&svcs);
	max_series = max;
	start_ns = now_unix_ns();
	__atomic_store_n(&folded, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&red_lock);
}

void red_fini(void)
{
	red_setup(max_series);
}

/* Under red_lock. The series for key, created from s when missing; NULL when out of memory. */
static struct red_series *lookup(const char *key, size_t len, const struct http_span *s,
				 const char *method, bool overflow)
{
	struct strmap_ent *e = strmap_get(&index_, key, len);
	struct red_series *r;

	if (e)
		return &series[e->val];
	if (nseries == cap_series) {
		unsigned cap = cap_series ? cap_series * 2 : 16;
		struct red_series *p = realloc(series, cap * sizeof(*p));

		if (!p)
			return NULL;
		series = p;
		cap_series = cap;
	}
	e = strmap_put(&index_, key, len);
	if (!e)
		return NULL;
	e->val = nseries;
	r = &series[nseries++];
	memset(r, 0, sizeof(*r));
	snprintf(r->service, sizeof(r->service), "%s", s->service_name);
	snprintf(r->exe, sizeof(r->exe), "%s", s->exe_name);
	r->k8s = s->k8s;
	r->overflow = overflow;
	if (!overflow) {
		snprintf(r->method, sizeof(r->method), "%s", method);
		snprintf(r->route, sizeof(r->route), "%s", s->route);
		r->status = s->status_code;
		nregular++;
	}
	return r;
}

/* Appends n bytes of str and a NUL separator to key; false when they do not fit. */
static bool key_add(char *key, size_t size, size_t *len, const char *str, size_t n)
{
	if (*len + n + 1 > size)
		return false;
	memcpy(key + *len, str, n);
	key[*len + n] = '\0';
	*len += n + 1;
	return true;
}

/* Appends v in decimal, last: the key's length ends at its last digit. */
static bool key_add_uint(char *key, size_t size, size_t *len, unsigned v)
{
	char digits[10];
	unsigned n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (*len + n + 1 > size)
		return false;
	for (unsigned i = 0; i < n; i++)
		key[*len + i] = digits[n - 1 - i];
	*len += n;
	key[*len] = '\0';
	return true;
}

void red_record(const struct http_span *s)
{
	char key[SPAN_NAME_MAX + CGROUP_POD_UID_MAX + SPAN_METHOD_MAX + SPAN_ROUTE_MAX + 16];
	const char *method = red_method(s->method);
	double v = s->end_ns > s->start_ns ? (s->end_ns - s->start_ns) / 1e9 : 0;
	struct red_series *r = NULL;
	struct red_exemplar *ex;
	unsigned b = red_bucket(v);
	size_t svc_len = strnlen(s->service_name, SPAN_NAME_MAX - 1);
	size_t len, ovf_len;

	/*
	 * "service\0pod\0method\0route\0status": a service's pods are series of their own;
	 * ovf_len is the "service\0pod" prefix, the key of their overflow series. Built by hand:
	 * this runs per span.
	 */
	len = 0;
	if (!key_add(key, sizeof(key), &len, s->service_name, svc_len) ||
	    !key_add(key, sizeof(key), &len, s->k8s.pod_uid, strlen(s->k8s.pod_uid)))
		return;
	ovf_len = len - 1;
	if (!key_add(key, sizeof(key), &len, method, strlen(method)) ||
	    !key_add(key, sizeof(key), &len, s->route, strlen(s->route)) ||
	    !key_add_uint(key, sizeof(key), &len, s->status_code))
		return;
	pthread_mutex_lock(&red_lock);
	if (!strmap_get(&svcs, s->service_name, svc_len)) {
		if (nservices >= RED_MAX_SERVICES || !strmap_put(&svcs, s->service_name, svc_len)) {
			__atomic_fetch_add(&folded, 1, __ATOMIC_RELAXED);
			goto out_unlock;
		}
		nservices++;
	}
	if (strmap_get(&index_, key, len) || nregular < max_series) {
		r = lookup(key, len, s, method, false);
	} else {
		/* the overflow key (service, pod) cannot collide: a regular key holds 4 NULs */
		r = lookup(key, ovf_len, s, method, true);
		__atomic_fetch_add(&folded, 1, __ATOMIC_RELAXED);
	}
	if (!r)
		goto out_unlock;
	if (!r->count || v < r->min)
		r->min = v;
	if (!r->count || v > r->max)
		r->max = v;
	r->count++;
	r->sum += v;
	r->buckets[b]++;
	ex = &r->ex[b];
	memcpy(ex->trace_id, s->trace_id, sizeof(ex->trace_id));
	memcpy(ex->span_id, s->span_id, sizeof(ex->span_id));
	ex->value = v;
	ex->time_ns = s->end_ns;
out_unlock:
	pthread_mutex_unlock(&red_lock);
}

int red_snapshot(struct red_series **out, unsigned *n, uint64_t *start)
{
	int err = 0;

	pthread_mutex_lock(&red_lock);
	*out = NULL;
	*n = nseries;
	*start = start_ns;
	if (nseries) {
		*out = malloc(nseries * sizeof(**out));
		if (*out)
			memcpy(*out, series, nseries * sizeof(**out));
		else
			err = -ENOMEM;
	}
	pthread_mutex_unlock(&red_lock);
	return err;
}

int red_prom_write(struct prom_buf *b, void *ctx)
{
	static const char *const fam = "http_server_request_duration_seconds";
	struct red_series *snap;
	uint64_t start;
	unsigned n;
	int err;

	(void)ctx;
	err = red_snapshot(&snap, &n, &start);
	if (err)
		return err;
	prom_family(b, fam, "histogram",
		    "Duration of HTTP server requests, measured by the agent.");
	for (unsigned i = 0; i < n; i++) {
		const struct red_series *r = &snap[i];
		char status[8], le[32], error_type[8];
		const char *labels[20];
		unsigned k = 0, le_idx;
		uint64_t cum = 0;

		snprintf(status, sizeof(status), "%u", r->status);
		snprintf(error_type, sizeof(error_type), "%u", r->status);
		labels[k++] = "service_name";
		labels[k++] = r->service;
		/* resource attributes as labels, named as the OTel Prometheus exporter names them */
		if (r->k8s.namespace_name[0]) {
			labels[k++] = "k8s_namespace_name";
			labels[k++] = r->k8s.namespace_name;
		}
		if (r->k8s.pod_name[0]) {
			labels[k++] = "k8s_pod_name";
			labels[k++] = r->k8s.pod_name;
		}
		if (r->overflow) {
			labels[k++] = "otel_metric_overflow";
			labels[k++] = "true";
		} else {
			labels[k++] = "http_request_method";
			labels[k++] = r->method;
			labels[k++] = "http_route";
			labels[k++] = r->route;
			labels[k++] = "http_response_status_code";
			labels[k++] = status;
			if (r->status >= 500 && r->status <= 599) {
				labels[k++] = "error_type";
				labels[k++] = error_type;
			}
		}
		labels[k] = NULL;
		labels[k + 1] = NULL;
		le_idx = k;
		for (unsigned j = 0; j < RED_NBUCKETS; j++) {
			cum += r->buckets[j];
			if (j < RED_NBOUNDS)
				snprintf(le, sizeof(le), "%g", red_bounds[j]);
			else
				snprintf(le, sizeof(le), "+Inf");
			labels[le_idx] = "le";
			labels[le_idx + 1] = le;
			labels[le_idx + 2] = NULL;
			prom_sample(b, "http_server_request_duration_seconds_bucket", labels, cum);
		}
		labels[le_idx] = NULL;
		prom_sample(b, "http_server_request_duration_seconds_sum", labels, r->sum);
		prom_sample(b, "http_server_request_duration_seconds_count", labels, r->count);
	}
	free(snap);
	prom_family(b, "o11y_ebpf_red_series", "gauge",
		    "Series of http_server_request_duration_seconds held by the agent.");
	prom_sample(b, "o11y_ebpf_red_series", NULL, n);
	prom_family(b, "o11y_ebpf_red_series_folded_total", "counter",
		    "Requests counted in a per-service overflow series (series cap reached).");
	prom_sample(b, "o11y_ebpf_red_series_folded_total", NULL, red_folded_total());
	prom_family(b, "o11y_ebpf_routes_folded_total", "counter",
		    "Requests whose new route was folded into \"" ROUTE_OVERFLOW
		    "\" (routes-per-service cap reached).");
	prom_sample(b, "o11y_ebpf_routes_folded_total", NULL, route_folded_total());
	return b->err;
}

int red_init(void)
{
	red_setup((unsigned)red_max_series_cfg);
	return prom_register_source("red", red_prom_write, NULL);
}
