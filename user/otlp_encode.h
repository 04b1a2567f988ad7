/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * OTLP protobuf bodies: finished spans -> ExportTraceServiceRequest (one ResourceSpans per
 * traced process), RED series -> ExportMetricsServiceRequest (one ResourceMetrics per service),
 * and the key=value list syntax of OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS.
 * Pure functions of their inputs: no globals, no I/O.
 */
#ifndef O11Y_OTLP_ENCODE_H
#define O11Y_OTLP_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "pagecache.h"
#include "red.h"
#include "span.h"

#define OTLP_SDK_NAME "o11y-ebpf"
#define OTLP_SCOPE_NAME "o11y-ebpf"
#define OTLP_INSTANCE_ID_LEN 37 /* UUID text and its NUL */

struct otlp_kv {
	char *key;
	char *val;
};

struct otlp_kvs {
	unsigned n;
	struct otlp_kv *v;
};

/*
 * Parses "k=v,k2=v2": members are trimmed of spaces and tabs, split at the first '=', then
 * percent-decoded; empty members are skipped. Returns 0, -EINVAL (no '=', empty key, bad %XX)
 * or -ENOMEM; out is left empty on error.
 */
int otlp_kvs_parse(const char *s, struct otlp_kvs *out);
void otlp_kvs_free(struct otlp_kvs *kvs);
/* The value of key, or NULL. */
const char *otlp_kvs_get(const struct otlp_kvs *kvs, const char *key);

/* What every resource carries besides the process's own identity. */
struct otlp_res_cfg {
	const char *host_name;
	const char *sdk_version;
	const struct otlp_kvs *extra; /* OTEL_RESOURCE_ATTRIBUTES; never override our own keys */
	/* process start time in clock ticks since boot (0 unknown), for service.instance.id */
	uint64_t (*proc_start)(uint32_t pid);
};

/*
 * service.instance.id: a version-8 UUID hashed from the host name, the pid and the process's
 * start time, so it is stable for a process's life and differs for a reused pid. For
 * per-service metric resources, pid and start are 0 and name is the service name.
 */
void otlp_instance_id(const char *host, const char *name, uint32_t pid, uint64_t start,
		      char out[OTLP_INSTANCE_ID_LEN]);

/* Span.flags: W3C flags, plus whether the parent is known to be remote. */
uint32_t otlp_span_flags(const struct http_span *s);

/* Serialized bodies; free data with free(). Return 0 or -ENOMEM. */
int otlp_encode_traces(const struct http_span *const *spans, unsigned n, const struct otlp_res_cfg *res,
		       uint8_t **data, size_t *len);
int otlp_encode_metrics(const struct red_series *series, unsigned n, uint64_t start_ns,
			uint64_t now_ns, const struct otlp_res_cfg *res, uint8_t **data,
			size_t *len);

/*
 * Page-cache totals (user/pagecache.h): o11y.page_cache.{hits,misses} per service (one resource
 * each) and o11y.host.page_cache.{hits,misses} under agent_service; monotonic Sums of pages.
 */
int otlp_encode_pagecache(const struct pc_counts *host, const struct pc_service *svc, unsigned n,
			  const char *agent_service, uint64_t start_ns, uint64_t now_ns,
			  const struct otlp_res_cfg *res, uint8_t **data, size_t *len);

#endif
