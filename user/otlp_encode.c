// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Builds the protobuf-c message trees for one request in a per-call arena (every node and
 * string of a batch in a few large blocks, freed at once), packs them, and frees the arena.
 * Strings that outlive the call (span fields, config) are referenced, not copied.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_collector_metrics.pb-c.h"
#include "otlp_collector_trace.pb-c.h"
#include "k8s_meta.h"
#include "otlp_encode.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope Scope;
typedef Opentelemetry__Proto__Resource__V1__Resource Resource;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans ResourceSpans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans ScopeSpans;
typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Trace__V1__Status Status;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest TraceReq;
typedef Opentelemetry__Proto__Metrics__V1__ResourceMetrics ResourceMetrics;
typedef Opentelemetry__Proto__Metrics__V1__ScopeMetrics ScopeMetrics;
typedef Opentelemetry__Proto__Metrics__V1__Metric Metric;
typedef Opentelemetry__Proto__Metrics__V1__Histogram Histogram;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint HistPoint;
typedef Opentelemetry__Proto__Metrics__V1__Exemplar Exemplar;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest MetricsReq;

/* ---- key=value lists ---- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Trims [s, s+n) and percent-decodes it into a new string. NULL with errno on failure. */
static char *decode(const char *s, size_t n)
{
	char *out, *o;

	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	out = o = malloc(n + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= n) {
				free(out);
				errno = EINVAL;
				return NULL;
			}
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0) {
				free(out);
				errno = EINVAL;
				return NULL;
			}
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

void otlp_kvs_free(struct otlp_kvs *kvs)
{
	if (!kvs)
		return;
	for (unsigned i = 0; i < kvs->n; i++) {
		free(kvs->v[i].key);
		free(kvs->v[i].val);
	}
	free(kvs->v);
	kvs->v = NULL;
	kvs->n = 0;
}

int otlp_kvs_parse(const char *s, struct otlp_kvs *out)
{
	const char *p = s;
	int err = 0;

	out->n = 0;
	out->v = NULL;
	if (!s)
		return 0;
	while (*p) {
		size_t n = strcspn(p, ","), k;
		const char *eq = memchr(p, '=', n);
		struct otlp_kv *v;
		size_t blank = strspn(p, " \t");

		if (blank >= n)
			goto next; /* empty member */
		if (!eq) {
			err = -EINVAL;
			goto err_free;
		}
		v = realloc(out->v, (out->n + 1) * sizeof(*v));
		if (!v) {
			err = -ENOMEM;
			goto err_free;
		}
		out->v = v;
		k = eq - p;
		v[out->n].key = decode(p, k);
		v[out->n].val = v[out->n].key ? decode(eq + 1, n - k - 1) : NULL;
		if (!v[out->n].key || !v[out->n].val) {
			err = -errno;
			free(v[out->n].key);
			goto err_free;
		}
		out->n++;
		if (!out->v[out->n - 1].key[0]) {
			err = -EINVAL;
			goto err_free;
		}
	next:
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;

err_free:
	otlp_kvs_free(out);
	return err;
}

const char *otlp_kvs_get(const struct otlp_kvs *kvs, const char *key)
{
	for (unsigned i = 0; kvs && i < kvs->n; i++)
		if (strcmp(kvs->v[i].key, key) == 0)
			return kvs->v[i].val;
	return NULL;
}

/* ---- identity ---- */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = mix64(h ^ (unsigned char)*s);
	return mix64(h ^ 0xff);
}

void otlp_instance_id(const char *host, const char *name, uint32_t pid, uint64_t start,
		      char out[OTLP_INSTANCE_ID_LEN])
{
	uint64_t a = hash_str(0x6f31317965627066ULL, host), b;

	a = hash_str(a, name);
	a = mix64(a ^ pid);
	a = mix64(a ^ start);
	b = mix64(a ^ 0x9e3779b97f4a7c15ULL);
	/* RFC 9562 UUIDv8: version nibble 8, variant bits 10 */
	a = (a & ~0xf000ULL) | 0x8000ULL;
	b = (b & ~(3ULL << 62)) | (2ULL << 62);
	snprintf(out, OTLP_INSTANCE_ID_LEN, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(a >> 32),
		 (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xffff, (unsigned)(b >> 48),
		 (unsigned long long)(b & 0xffffffffffffULL));
}

uint32_t otlp_span_flags(const struct http_span *s)
{
	/* SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK, and IS_REMOTE when the parent came in a header */
	return s->trace_flags | 0x100 | (s->has_parent ? 0x200 : 0);
}

/* ---- arena ---- */

#define ARENA_CHUNK (64 * 1024)

struct chunk {
	struct chunk *next;
	size_t used, size;
	max_align_t data[];
};

struct arena {
	struct chunk *head;
	bool failed;
};

static void *arena_alloc(struct arena *a, size_t n)
{
	struct chunk *c = a->head;
	void *p;

	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (!c || c->size - c->used < n) {
		size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;

		c = malloc(sizeof(*c) + size);
		if (!c) {
			a->failed = true;
			return NULL;
		}
		c->size = size;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	p = (char *)c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

static void arena_free(struct arena *a)
{
	while (a->head) {
		struct chunk *c = a->head;

		a->head = c->next;
		free(c);
	}
}

static char *arena_strdup(struct arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = arena_alloc(a, n);

	if (p)
		memcpy(p, s, n);
	return p;
}

/* ---- attributes ---- */

struct attrs {
	KeyValue **v;
	size_t n, cap;
};

static void attrs_init(struct arena *a, struct attrs *at, size_t cap)
{
	at->v = arena_alloc(a, cap * sizeof(*at->v));
	at->n = 0;
	at->cap = at->v ? cap : 0;
}

static AnyValue *attr_add(struct arena *a, struct attrs *at, const char *key)
{
	KeyValue *kv;
	AnyValue *av;

	if (at->n == at->cap)
		return NULL;
	kv = arena_alloc(a, sizeof(*kv));
	av = arena_alloc(a, sizeof(*av));
	if (!kv || !av)
		return NULL;
	opentelemetry__proto__common__v1__key_value__init(kv);
	opentelemetry__proto__common__v1__any_value__init(av);
	kv->key = (char *)key;
	kv->value = av;
	at->v[at->n++] = kv;
	return av;
}

static void attr_str(struct arena *a, struct attrs *at, const char *key, const char *val)
{
	AnyValue *av = attr_add(a, at, key);

	if (!av)
		return;
	av->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	av->string_value = (char *)val;
}

static void attr_int(struct arena *a, struct attrs *at, const char *key, int64_t val)
{
	AnyValue *av = attr_add(a, at, key);

	if (!av)
		return;
	av->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
	av->int_value = val;
}

static void attr_bool(struct arena *a, struct attrs *at, const char *key, bool val)
{
	AnyValue *av = attr_add(a, at, key);

	if (!av)
		return;
	av->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
	av->bool_value = val;
}

static bool own_key(const char *k)
{
	static const char *const own[] = {
	    "service.name",	  "service.instance.id",     "host.name",
	    "process.pid",	  "process.executable.name", "process.command_line",
	    "telemetry.sdk.name", "telemetry.sdk.language",  "telemetry.sdk.version"};

	for (unsigned i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (strcmp(k, own[i]) == 0)
			return true;
	return false;
}

struct res_attrs {
	struct arena *a;
	struct attrs *at;
};

static void res_attr(const char *key, const char *val, void *ctx)
{
	struct res_attrs *ra = ctx;

	attr_str(ra->a, ra->at, key, val);
}

static bool has_key(const struct attrs *at, const char *key)
{
	for (size_t i = 0; i < at->n; i++)
		if (strcmp(at->v[i]->key, key) == 0)
			return true;
	return false;
}

/*
 * pid 0: a per-service resource (metrics aggregate the service's processes, per pod in
 * Kubernetes). k8s: the container and pod attributes (user/k8s_meta.c), "" fields left out.
 */
static Resource *resource_new(struct arena *a, const struct otlp_res_cfg *res, const char *service,
			      const char *exe, uint32_t pid, const struct span_k8s *k8s)
{
	unsigned nextra = res->extra ? res->extra->n : 0;
	Resource *r = arena_alloc(a, sizeof(*r));
	char *iid = arena_alloc(a, OTLP_INSTANCE_ID_LEN);
	char name[SPAN_NAME_MAX + CGROUP_POD_UID_MAX + 1];
	struct res_attrs ra = { a, NULL };
	struct attrs at;

	if (!r || !iid)
		return NULL;
	opentelemetry__proto__resource__v1__resource__init(r);
	if (pid) {
		otlp_instance_id(res->host_name, NULL, pid,
				 res->proc_start ? res->proc_start(pid) : 0, iid);
	} else {
		/* each pod of a service is an instance of its own */
		snprintf(name, sizeof(name), "%s%s%s", service, k8s->pod_uid[0] ? "/" : "",
			 k8s->pod_uid);
		otlp_instance_id(res->host_name, name, 0, 0, iid);
	}
	attrs_init(a, &at, 8 + K8S_RES_ATTRS_MAX + nextra);
	attr_str(a, &at, "service.name", service);
	attr_str(a, &at, "service.instance.id", iid);
	attr_str(a, &at, "host.name", res->host_name);
	if (pid)
		attr_int(a, &at, "process.pid", pid);
	if (exe && *exe)
		attr_str(a, &at, "process.executable.name", exe);
	attr_str(a, &at, "telemetry.sdk.name", OTLP_SDK_NAME);
	attr_str(a, &at, "telemetry.sdk.language", "c");
	attr_str(a, &at, "telemetry.sdk.version", res->sdk_version);
	ra.at = &at;
	k8s_resource_attrs(k8s, res_attr, &ra);
	for (unsigned i = 0; i < nextra; i++)
		if (!own_key(res->extra->v[i].key) && !has_key(&at, res->extra->v[i].key))
			attr_str(a, &at, res->extra->v[i].key, res->extra->v[i].val);
	r->n_attributes = at.n;
	r->attributes = at.v;
	return r;
}

static Scope *scope_new(struct arena *a, const struct otlp_res_cfg *res)
{
	Scope *s = arena_alloc(a, sizeof(*s));

	if (!s)
		return NULL;
	opentelemetry__proto__common__v1__instrumentation_scope__init(s);
	s->name = OTLP_SCOPE_NAME;
	s->version = (char *)res->sdk_version;
	return s;
}

/* ---- traces ---- */

static Span *span_new(struct arena *a, const struct http_span *s)
{
	const char *method = red_method(s->method);
	char name[SPAN_METHOD_MAX + SPAN_ROUTE_MAX + 2];
	bool is_5xx = s->status_code >= 500 && s->status_code <= 599;
	Span *sp = arena_alloc(a, sizeof(*sp));
	Status *st = arena_alloc(a, sizeof(*st));
	struct attrs at;
	char *err_type = NULL;

	if (!sp || !st)
		return NULL;
	opentelemetry__proto__trace__v1__span__init(sp);
	opentelemetry__proto__trace__v1__status__init(st);
	sp->trace_id.data = (uint8_t *)s->trace_id;
	sp->trace_id.len = sizeof(s->trace_id);
	sp->span_id.data = (uint8_t *)s->span_id;
	sp->span_id.len = sizeof(s->span_id);
	if (s->has_parent) {
		sp->parent_span_id.data = (uint8_t *)s->parent_span_id;
		sp->parent_span_id.len = sizeof(s->parent_span_id);
	}
	sp->flags = otlp_span_flags(s);
	/* semconv: "{method} {route}" with the normalized method */
	if (s->route[0])
		snprintf(name, sizeof(name), "%s %s", method[0] == '_' ? "HTTP" : method, s->route);
	else
		snprintf(name, sizeof(name), "%s", method[0] == '_' ? "HTTP" : method);
	sp->name = arena_strdup(a, name);
	sp->kind = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER;
	sp->start_time_unix_nano = s->start_ns;
	sp->end_time_unix_nano = s->end_ns;
	if (is_5xx) {
		st->code = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
		err_type = arena_alloc(a, 8);
		if (err_type)
			snprintf(err_type, 8, "%u", s->status_code);
	}
	if (is_5xx)
		sp->status = st; /* absent means UNSET */
	attrs_init(a, &at, 14);
	attr_str(a, &at, "http.request.method", method);
	if (method[0] == '_')
		attr_str(a, &at, "http.request.method_original", s->method);
	attr_str(a, &at, "url.path", s->path);
	attr_str(a, &at, "url.scheme", "http");
	if (s->route[0])
		attr_str(a, &at, "http.route", s->route);
	attr_int(a, &at, "http.response.status_code", s->status_code);
	if (err_type)
		attr_str(a, &at, "error.type", err_type);
	attr_int(a, &at, "server.port", s->server_port);
	if (s->client_addr[0])
		attr_str(a, &at, "client.address", s->client_addr);
	if (s->client_port)
		attr_int(a, &at, "client.port", s->client_port);
	attr_str(a, &at, "network.protocol.version", s->proto_minor ? "1.1" : "1.0");
	if (s->user_agent[0])
		attr_str(a, &at, "user_agent.original", s->user_agent);
	if (s->has_page_cache) {
		attr_int(a, &at, "o11y.page_cache.hits", (int64_t)s->pc_hits);
		attr_int(a, &at, "o11y.page_cache.misses", (int64_t)s->pc_misses);
	}
	sp->n_attributes = at.n;
	sp->attributes = at.v;
	return a->failed ? NULL : sp;
}

/* The child span "file.read" of the server span s for its file i (user/span.h). */
static Span *file_span_new(struct arena *a, const struct http_span *s, unsigned i)
{
	const struct span_file_read *f = &s->pc_files[i];
	Span *sp = arena_alloc(a, sizeof(*sp));
	struct attrs at;

	if (!sp)
		return NULL;
	opentelemetry__proto__trace__v1__span__init(sp);
	sp->trace_id.data = (uint8_t *)s->trace_id;
	sp->trace_id.len = sizeof(s->trace_id);
	sp->span_id.data = (uint8_t *)f->span_id;
	sp->span_id.len = sizeof(f->span_id);
	sp->parent_span_id.data = (uint8_t *)s->span_id;
	sp->parent_span_id.len = sizeof(s->span_id);
	sp->flags = 0x100 | (s->trace_flags & 0xff); /* parent known, and local */
	sp->name = "file.read";
	sp->kind = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_INTERNAL;
	sp->start_time_unix_nano = f->start_ns;
	sp->end_time_unix_nano = f->end_ns;
	attrs_init(a, &at, 6);
	attr_str(a, &at, "file.path", f->path);
	if (f->path_truncated)
		attr_bool(a, &at, "o11y.file.path_truncated", true);
	attr_int(a, &at, "o11y.file.bytes_read", (int64_t)f->bytes);
	attr_bool(a, &at, "o11y.page_cache.hit", f->misses == 0);
	attr_int(a, &at, "o11y.page_cache.hits", (int64_t)f->hits);
	attr_int(a, &at, "o11y.page_cache.misses", (int64_t)f->misses);
	sp->n_attributes = at.n;
	sp->attributes = at.v;
	return a->failed ? NULL : sp;
}

static int pack(const ProtobufCMessage *m, uint8_t **data, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(m);

	*data = malloc(n ? n : 1);
	if (!*data)
		return -ENOMEM;
	*len = protobuf_c_message_pack(m, *data);
	return 0;
}

int otlp_encode_traces(const struct http_span *const *spans, unsigned n, const struct otlp_res_cfg *res,
		       uint8_t **data, size_t *len)
{
	struct arena a = {0};
	TraceReq req =
	    OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
	ResourceSpans **rs = arena_alloc(&a, (n ? n : 1) * sizeof(*rs));
	uint32_t *pids = arena_alloc(&a, (n ? n : 1) * sizeof(*pids));
	unsigned *count = arena_alloc(&a, (n ? n : 1) * sizeof(*count));
	unsigned nres = 0;
	Scope *scope = scope_new(&a, res);
	int err = -ENOMEM;

	if (!rs || !pids || !count || !scope)
		goto out;
	/* one ResourceSpans per process: count first so each gets an exact array */
	for (unsigned i = 0; i < n; i++) {
		unsigned r;

		for (r = 0; r < nres && pids[r] != spans[i]->pid; r++)
			;
		if (r == nres)
			pids[nres++] = spans[i]->pid;
		count[r] += 1 + spans[i]->pc_nfiles; /* the span and its file.read children */
	}
	for (unsigned r = 0; r < nres; r++) {
		ScopeSpans *ss = arena_alloc(&a, sizeof(*ss));
		const struct http_span *first = NULL;

		rs[r] = arena_alloc(&a, sizeof(*rs[r]));
		if (!ss || !rs[r])
			goto out;
		opentelemetry__proto__trace__v1__resource_spans__init(rs[r]);
		opentelemetry__proto__trace__v1__scope_spans__init(ss);
		ss->scope = scope;
		ss->spans = arena_alloc(&a, count[r] * sizeof(*ss->spans));
		rs[r]->scope_spans = arena_alloc(&a, sizeof(*rs[r]->scope_spans));
		if (!ss->spans || !rs[r]->scope_spans)
			goto out;
		rs[r]->n_scope_spans = 1;
		rs[r]->scope_spans[0] = ss;
		for (unsigned i = 0; i < n; i++) {
			if (spans[i]->pid != pids[r])
				continue;
			if (!first)
				first = spans[i];
			ss->spans[ss->n_spans] = span_new(&a, spans[i]);
			if (!ss->spans[ss->n_spans])
				goto out;
			ss->n_spans++;
			for (unsigned f = 0; f < spans[i]->pc_nfiles && f < SPAN_FILES_MAX; f++) {
				ss->spans[ss->n_spans] = file_span_new(&a, spans[i], f);
				if (!ss->spans[ss->n_spans])
					goto out;
				ss->n_spans++;
			}
		}
		rs[r]->resource =
		    resource_new(&a, res, first->service_name, first->exe_name, first->pid, &first->k8s);
		if (!rs[r]->resource)
			goto out;
	}
	req.n_resource_spans = nres;
	req.resource_spans = rs;
	if (a.failed)
		goto out;
	err = pack(&req.base, data, len);
out:
	arena_free(&a);
	return err;
}

/* ---- metrics ---- */

static HistPoint *point_new(struct arena *a, const struct red_series *r, uint64_t start_ns,
			    uint64_t now_ns)
{
	HistPoint *p = arena_alloc(a, sizeof(*p));
	struct attrs at;
	char *err_type;

	if (!p)
		return NULL;
	opentelemetry__proto__metrics__v1__histogram_data_point__init(p);
	attrs_init(a, &at, 5);
	if (r->overflow) {
		attr_bool(a, &at, "otel.metric.overflow", true);
	} else {
		attr_str(a, &at, "http.request.method", r->method);
		if (r->route[0])
			attr_str(a, &at, "http.route", r->route);
		attr_int(a, &at, "http.response.status_code", r->status);
		if (r->status >= 500 && r->status <= 599) {
			err_type = arena_alloc(a, 8);
			if (err_type) {
				snprintf(err_type, 8, "%u", r->status);
				attr_str(a, &at, "error.type", err_type);
			}
		}
	}
	p->n_attributes = at.n;
	p->attributes = at.v;
	p->start_time_unix_nano = start_ns;
	p->time_unix_nano = now_ns;
	p->count = r->count;
	p->_sum_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___SUM_SUM;
	p->sum = r->sum;
	p->n_bucket_counts = RED_NBUCKETS;
	p->bucket_counts = (uint64_t *)r->buckets;
	p->n_explicit_bounds = RED_NBOUNDS;
	p->explicit_bounds = (double *)red_bounds;
	if (r->count) {
		p->_min_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___MIN_MIN;
		p->min = r->min;
		p->_max_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___MAX_MAX;
		p->max = r->max;
	}
	p->exemplars = arena_alloc(a, RED_NBUCKETS * sizeof(*p->exemplars));
	if (!p->exemplars)
		return NULL;
	for (unsigned b = 0; b < RED_NBUCKETS; b++) {
		const struct red_exemplar *ex = &r->ex[b];
		Exemplar *e;

		if (!ex->time_ns)
			continue;
		e = arena_alloc(a, sizeof(*e));
		if (!e)
			return NULL;
		opentelemetry__proto__metrics__v1__exemplar__init(e);
		e->time_unix_nano = ex->time_ns;
		e->value_case = OPENTELEMETRY__PROTO__METRICS__V1__EXEMPLAR__VALUE_AS_DOUBLE;
		e->as_double = ex->value;
		e->trace_id.data = (uint8_t *)ex->trace_id;
		e->trace_id.len = sizeof(ex->trace_id);
		e->span_id.data = (uint8_t *)ex->span_id;
		e->span_id.len = sizeof(ex->span_id);
		p->exemplars[p->n_exemplars++] = e;
	}
	return a->failed ? NULL : p;
}

/* One ResourceMetrics per service, and per pod in Kubernetes. */
static bool same_resource(const struct red_series *x, const struct red_series *y)
{
	return strcmp(x->service, y->service) == 0 && strcmp(x->k8s.pod_uid, y->k8s.pod_uid) == 0;
}

int otlp_encode_metrics(const struct red_series *series, unsigned n, uint64_t start_ns,
			uint64_t now_ns, const struct otlp_res_cfg *res, uint8_t **data,
			size_t *len)
{
	struct arena a = {0};
	MetricsReq req =
	    OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_REQUEST__INIT;
	ResourceMetrics **rm = arena_alloc(&a, (n ? n : 1) * sizeof(*rm));
	const char **svc = arena_alloc(&a, (n ? n : 1) * sizeof(*svc));
	unsigned *count = arena_alloc(&a, (n ? n : 1) * sizeof(*count));
	const struct red_series **first_of = arena_alloc(&a, (n ? n : 1) * sizeof(*first_of));
	Scope *scope = scope_new(&a, res);
	unsigned nres = 0;
	int err = -ENOMEM;

	if (!rm || !svc || !count || !first_of || !scope)
		goto out;
	for (unsigned i = 0; i < n; i++) {
		unsigned r;

		for (r = 0; r < nres && !same_resource(first_of[r], &series[i]); r++)
			;
		if (r == nres) {
			svc[nres] = series[i].service;
			first_of[nres++] = &series[i];
		}
		count[r]++;
	}
	for (unsigned r = 0; r < nres; r++) {
		ScopeMetrics *sm = arena_alloc(&a, sizeof(*sm));
		Metric *m = arena_alloc(&a, sizeof(*m));
		Histogram *h = arena_alloc(&a, sizeof(*h));
		const struct red_series *first = NULL;

		rm[r] = arena_alloc(&a, sizeof(*rm[r]));
		if (!sm || !m || !h || !rm[r])
			goto out;
		opentelemetry__proto__metrics__v1__resource_metrics__init(rm[r]);
		opentelemetry__proto__metrics__v1__scope_metrics__init(sm);
		opentelemetry__proto__metrics__v1__metric__init(m);
		opentelemetry__proto__metrics__v1__histogram__init(h);
		m->name = "http.server.request.duration";
		m->description = "Duration of HTTP server requests.";
		m->unit = "s";
		m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
		m->histogram = h;
		h->aggregation_temporality =
		    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
		h->data_points = arena_alloc(&a, count[r] * sizeof(*h->data_points));
		sm->metrics = arena_alloc(&a, sizeof(*sm->metrics));
		rm[r]->scope_metrics = arena_alloc(&a, sizeof(*rm[r]->scope_metrics));
		if (!h->data_points || !sm->metrics || !rm[r]->scope_metrics)
			goto out;
		sm->scope = scope;
		sm->n_metrics = 1;
		sm->metrics[0] = m;
		rm[r]->n_scope_metrics = 1;
		rm[r]->scope_metrics[0] = sm;
		for (unsigned i = 0; i < n; i++) {
			if (!same_resource(first_of[r], &series[i]))
				continue;
			if (!first)
				first = &series[i];
			h->data_points[h->n_data_points] =
			    point_new(&a, &series[i], start_ns, now_ns);
			if (!h->data_points[h->n_data_points])
				goto out;
			h->n_data_points++;
		}
		rm[r]->resource = resource_new(&a, res, first->service, first->exe, 0, &first->k8s);
		if (!rm[r]->resource)
			goto out;
	}
	req.n_resource_metrics = nres;
	req.resource_metrics = rm;
	if (a.failed)
		goto out;
	err = pack(&req.base, data, len);
out:
	arena_free(&a);
	return err;
}

/* One monotonic cumulative Sum of pages with a single point. */
static Metric *pc_sum_new(struct arena *a, const char *name, const char *desc, uint64_t v,
			  uint64_t start_ns, uint64_t now_ns)
{
	Metric *m = arena_alloc(a, sizeof(*m));
	Opentelemetry__Proto__Metrics__V1__Sum *sum = arena_alloc(a, sizeof(*sum));
	Opentelemetry__Proto__Metrics__V1__NumberDataPoint *p = arena_alloc(a, sizeof(*p));

	if (!m || !sum || !p)
		return NULL;
	opentelemetry__proto__metrics__v1__metric__init(m);
	opentelemetry__proto__metrics__v1__sum__init(sum);
	opentelemetry__proto__metrics__v1__number_data_point__init(p);
	m->name = (char *)name;
	m->description = (char *)desc;
	m->unit = "{page}";
	m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
	m->sum = sum;
	sum->aggregation_temporality =
	    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
	sum->is_monotonic = true;
	sum->data_points = arena_alloc(a, sizeof(*sum->data_points));
	if (!sum->data_points)
		return NULL;
	p->start_time_unix_nano = start_ns;
	p->time_unix_nano = now_ns;
	p->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
	p->as_int = (int64_t)v;
	sum->data_points[0] = p;
	sum->n_data_points = 1;
	return m;
}

int otlp_encode_pagecache(const struct pc_counts *host, const struct pc_service *svc, unsigned n,
			  const char *agent_service, uint64_t start_ns, uint64_t now_ns,
			  const struct otlp_res_cfg *res, uint8_t **data, size_t *len)
{
	struct arena a = {0};
	MetricsReq req =
	    OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_REQUEST__INIT;
	ResourceMetrics **rm = arena_alloc(&a, (n + 1) * sizeof(*rm));
	Scope *scope = scope_new(&a, res);
	static const struct span_k8s no_k8s;
	int err = -ENOMEM;

	if (!rm || !scope)
		goto out;
	/* resource 0: the host's totals, under the agent's own service; then one per service */
	for (unsigned r = 0; r <= n; r++) {
		const struct pc_counts *c = r ? &svc[r - 1].c : host;
		const char *pfx = r ? "o11y.page_cache." : "o11y.host.page_cache.";
		ScopeMetrics *sm = arena_alloc(&a, sizeof(*sm));
		char *hits = arena_alloc(&a, 64), *misses = arena_alloc(&a, 64);

		rm[r] = arena_alloc(&a, sizeof(*rm[r]));
		if (!sm || !rm[r] || !hits || !misses)
			goto out;
		snprintf(hits, 64, "%shits", pfx);
		snprintf(misses, 64, "%smisses", pfx);
		opentelemetry__proto__metrics__v1__resource_metrics__init(rm[r]);
		opentelemetry__proto__metrics__v1__scope_metrics__init(sm);
		sm->scope = scope;
		sm->metrics = arena_alloc(&a, 2 * sizeof(*sm->metrics));
		rm[r]->scope_metrics = arena_alloc(&a, sizeof(*rm[r]->scope_metrics));
		if (!sm->metrics || !rm[r]->scope_metrics)
			goto out;
		sm->metrics[0] = pc_sum_new(&a, hits, "Pages file reads found in the page cache.",
					    c->hits, start_ns, now_ns);
		sm->metrics[1] = pc_sum_new(&a, misses, "Pages file reads had to read in.",
					    c->misses, start_ns, now_ns);
		if (!sm->metrics[0] || !sm->metrics[1])
			goto out;
		sm->n_metrics = 2;
		rm[r]->n_scope_metrics = 1;
		rm[r]->scope_metrics[0] = sm;
		rm[r]->resource = resource_new(&a, res, r ? svc[r - 1].name : agent_service, NULL, 0,
					       &no_k8s);
		if (!rm[r]->resource)
			goto out;
	}
	req.n_resource_metrics = n + 1;
	req.resource_metrics = rm;
	if (a.failed)
		goto out;
	err = pack(&req.base, data, len);
out:
	arena_free(&a);
	return err;
}
