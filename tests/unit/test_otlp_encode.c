// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* OTLP bodies: encode, decode with the generated unpack, check every field we set. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_collector_metrics.pb-c.h"
#include "otlp_collector_trace.pb-c.h"
#include "config.h"
#include "otlp_encode.h"
#include "red.h"


typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest TraceReq;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest MetricsReq;

static uint64_t fake_start(uint32_t pid)
{
	return 1000 + pid;
}

static const KeyValue *find(KeyValue **kv, size_t n, const char *key)
{
	const KeyValue *found = NULL;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(kv[i]->key, key) == 0) {
			assert_null(found); /* keys are unique */
			found = kv[i];
		}
	}
	return found;
}

static void assert_str_attr(KeyValue **kv, size_t n, const char *key, const char *val)
{
	const KeyValue *a = find(kv, n, key);

	assert_non_null(a);
	assert_int_equal(a->value->value_case,
			 OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE);
	assert_string_equal(a->value->string_value, val);
}

static void assert_int_attr(KeyValue **kv, size_t n, const char *key, int64_t val)
{
	const KeyValue *a = find(kv, n, key);

	assert_non_null(a);
	assert_int_equal(a->value->value_case,
			 OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE);
	assert_int_equal(a->value->int_value, val);
}

static void make_span(struct http_span *s, uint32_t pid, const char *svc, uint16_t status)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 16; i++)
		s->trace_id[i] = 0x10 + i;
	for (int i = 0; i < 8; i++)
		s->span_id[i] = 0xa0 + i;
	s->start_ns = 1700000000000000000ULL;
	s->end_ns = s->start_ns + 1234567;
	s->pid = pid;
	s->status_code = status;
	s->proto_minor = 1;
	s->trace_flags = 1;
	strcpy(s->method, "GET");
	strcpy(s->path, "/users/42");
	strcpy(s->route, "/users/{id}");
	strcpy(s->user_agent, "curl/7.88.1");
	strcpy(s->client_addr, "127.0.0.1");
	s->client_port = 40000;
	s->server_port = 8080;
	strcpy(s->service_name, svc);
	strcpy(s->exe_name, "python3");
}

static struct otlp_kvs extra;
static struct otlp_res_cfg res = {
    .host_name = "box1", .sdk_version = "9.9.9", .extra = &extra, .proc_start = fake_start};

static void test_traces(void **st)
{
	struct http_span s[3];
	uint8_t *buf;
	size_t len;
	TraceReq *req;
	char iid[OTLP_INSTANCE_ID_LEN];

	assert_int_equal(otlp_kvs_parse("deployment.environment=prod,service.name=nope", &extra),
			 0);
	make_span(&s[0], 100, "shop", 200);
	make_span(&s[1], 200, "api", 503);
	s[1].has_parent = true;
	memset(s[1].parent_span_id, 0x77, 8);
	s[1].route[0] = '\0';
	s[1].user_agent[0] = '\0';
	s[1].proto_minor = 0;
	strcpy(s[1].method, "PURGE");
	make_span(&s[2], 100, "shop", 404);
	{
		const struct http_span *ps[] = { &s[0], &s[1], &s[2] };

		assert_int_equal(otlp_encode_traces(ps, 3, &res, &buf, &len), 0);
	}
	req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
	    NULL, len, buf);
	assert_non_null(req);
	assert_int_equal(req->n_resource_spans, 2);

	/* resource of pid 100 */
	{
		Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = req->resource_spans[0];
		KeyValue **ra = rs->resource->attributes;
		size_t rn = rs->resource->n_attributes;
		Opentelemetry__Proto__Trace__V1__Span *sp;

		assert_str_attr(ra, rn, "service.name", "shop");
		otlp_instance_id("box1", NULL, 100, 1100, iid);
		assert_str_attr(ra, rn, "service.instance.id", iid);
		assert_str_attr(ra, rn, "host.name", "box1");
		assert_int_attr(ra, rn, "process.pid", 100);
		assert_str_attr(ra, rn, "process.executable.name", "python3");
		assert_str_attr(ra, rn, "telemetry.sdk.name", "o11y-ebpf");
		assert_str_attr(ra, rn, "telemetry.sdk.language", "c");
		assert_str_attr(ra, rn, "telemetry.sdk.version", "9.9.9");
		assert_str_attr(ra, rn, "deployment.environment", "prod");
		assert_null(find(ra, rn, "process.command_line"));
		assert_int_equal(rn, 9);
		assert_int_equal(rs->n_scope_spans, 1);
		assert_string_equal(rs->scope_spans[0]->scope->name, "o11y-ebpf");
		assert_string_equal(rs->scope_spans[0]->scope->version, "9.9.9");
		assert_int_equal(rs->scope_spans[0]->n_spans, 2);
		sp = rs->scope_spans[0]->spans[0];
		assert_int_equal(sp->trace_id.len, 16);
		assert_memory_equal(sp->trace_id.data, s[0].trace_id, 16);
		assert_int_equal(sp->span_id.len, 8);
		assert_memory_equal(sp->span_id.data, s[0].span_id, 8);
		assert_int_equal(sp->parent_span_id.len, 0);
		assert_int_equal(sp->flags, 0x101);
		assert_string_equal(sp->name, "GET /users/{id}");
		assert_int_equal(
		    sp->kind, OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER);
		assert_int_equal(sp->start_time_unix_nano, s[0].start_ns);
		assert_int_equal(sp->end_time_unix_nano, s[0].end_ns);
		assert_null(sp->status); /* UNSET: no Status message */
		assert_str_attr(sp->attributes, sp->n_attributes, "http.request.method", "GET");
		assert_str_attr(sp->attributes, sp->n_attributes, "url.path", "/users/42");
		assert_str_attr(sp->attributes, sp->n_attributes, "url.scheme", "http");
		assert_str_attr(sp->attributes, sp->n_attributes, "http.route", "/users/{id}");
		assert_int_attr(sp->attributes, sp->n_attributes, "http.response.status_code", 200);
		assert_int_attr(sp->attributes, sp->n_attributes, "server.port", 8080);
		assert_str_attr(sp->attributes, sp->n_attributes, "client.address", "127.0.0.1");
		assert_int_attr(sp->attributes, sp->n_attributes, "client.port", 40000);
		assert_str_attr(sp->attributes, sp->n_attributes, "network.protocol.version",
				"1.1");
		assert_str_attr(sp->attributes, sp->n_attributes, "user_agent.original",
				"curl/7.88.1");
		assert_null(find(sp->attributes, sp->n_attributes, "error.type"));
		assert_int_equal(sp->n_attributes, 10);
		sp = rs->scope_spans[0]->spans[1];
		assert_int_attr(sp->attributes, sp->n_attributes, "http.response.status_code", 404);
		assert_null(sp->status); /* 4xx is not a server error */
	}
	/* pid 200: 5xx, parent, unknown method, no route, HTTP/1.0 */
	{
		Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = req->resource_spans[1];
		Opentelemetry__Proto__Trace__V1__Span *sp = rs->scope_spans[0]->spans[0];

		assert_str_attr(rs->resource->attributes, rs->resource->n_attributes,
				"service.name", "api");
		assert_int_equal(rs->scope_spans[0]->n_spans, 1);
		assert_int_equal(sp->parent_span_id.len, 8);
		assert_memory_equal(sp->parent_span_id.data, "\x77\x77\x77\x77\x77\x77\x77\x77", 8);
		assert_int_equal(sp->flags, 0x301);
		assert_string_equal(sp->name, "HTTP");
		assert_int_equal(
		    sp->status->code,
		    OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR);
		assert_str_attr(sp->attributes, sp->n_attributes, "http.request.method", "_OTHER");
		assert_str_attr(sp->attributes, sp->n_attributes, "http.request.method_original",
				"PURGE");
		assert_str_attr(sp->attributes, sp->n_attributes, "error.type", "503");
		assert_str_attr(sp->attributes, sp->n_attributes, "network.protocol.version",
				"1.0");
		assert_null(find(sp->attributes, sp->n_attributes, "http.route"));
		assert_null(find(sp->attributes, sp->n_attributes, "user_agent.original"));
	}
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
	    req, NULL);
	free(buf);
	otlp_kvs_free(&extra);
}

static void test_metrics(void **st)
{
	struct http_span s;
	struct red_series *snap;
	unsigned n;
	uint64_t start;
	uint8_t *buf;
	size_t len;
	MetricsReq *req;
	Opentelemetry__Proto__Metrics__V1__Metric *m;
	Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *p;

	red_setup(100);
	make_span(&s, 100, "shop", 200);
	s.end_ns = s.start_ns + 3000000; /* 3 ms: bucket 0 */
	red_record(&s);
	s.end_ns = s.start_ns + 60000000; /* 60 ms: bucket 4 (<= 0.075) */
	s.span_id[0] = 0xee;
	red_record(&s);
	make_span(&s, 300, "api", 500);
	s.end_ns = s.start_ns + 20000000000ULL; /* 20 s: +Inf */
	red_record(&s);
	assert_int_equal(red_snapshot(&snap, &n, &start), 0);
	assert_int_equal(n, 2);
	assert_int_equal(otlp_encode_metrics(snap, n, start, start + 5, &res, &buf, &len), 0);
	req = opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(
	    NULL, len, buf);
	assert_non_null(req);
	assert_int_equal(req->n_resource_metrics, 2);
	assert_str_attr(req->resource_metrics[0]->resource->attributes,
			req->resource_metrics[0]->resource->n_attributes, "service.name", "shop");
	assert_null(find(req->resource_metrics[0]->resource->attributes,
			 req->resource_metrics[0]->resource->n_attributes, "process.pid"));
	assert_int_equal(req->resource_metrics[0]->n_scope_metrics, 1);
	m = req->resource_metrics[0]->scope_metrics[0]->metrics[0];
	assert_string_equal(m->name, "http.server.request.duration");
	assert_string_equal(m->unit, "s");
	assert_int_equal(m->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM);
	assert_int_equal(
	    m->histogram->aggregation_temporality,
	    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE);
	assert_int_equal(m->histogram->n_data_points, 1);
	p = m->histogram->data_points[0];
	assert_str_attr(p->attributes, p->n_attributes, "http.request.method", "GET");
	assert_str_attr(p->attributes, p->n_attributes, "http.route", "/users/{id}");
	assert_int_attr(p->attributes, p->n_attributes, "http.response.status_code", 200);
	assert_null(find(p->attributes, p->n_attributes, "error.type"));
	assert_int_equal(p->start_time_unix_nano, start);
	assert_int_equal(p->time_unix_nano, start + 5);
	assert_int_equal(p->count, 2);
	assert_int_equal(p->_sum_case,
			 OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___SUM_SUM);
	assert_true(p->sum > 0.0629 && p->sum < 0.0631);
	assert_int_equal(p->n_explicit_bounds, 14);
	assert_true(p->explicit_bounds[0] == 0.005 && p->explicit_bounds[13] == 10);
	assert_int_equal(p->n_bucket_counts, 15);
	for (unsigned b = 0; b < 15; b++)
		assert_int_equal(p->bucket_counts[b], b == 0 || b == 4 ? 1 : 0);
	assert_true(p->min == 0.003 && p->max == 0.06);
	assert_int_equal(p->n_exemplars, 2);
	assert_int_equal(p->exemplars[1]->span_id.len, 8);
	assert_int_equal(p->exemplars[1]->span_id.data[0], 0xee);
	assert_int_equal(p->exemplars[1]->trace_id.len, 16);
	assert_memory_equal(p->exemplars[1]->trace_id.data, s.trace_id, 16);
	assert_true(p->exemplars[1]->as_double == 0.06);
	assert_int_equal(p->exemplars[1]->time_unix_nano, s.start_ns + 60000000);
	p = req->resource_metrics[1]->scope_metrics[0]->metrics[0]->histogram->data_points[0];
	assert_str_attr(p->attributes, p->n_attributes, "error.type", "500");
	assert_int_equal(p->bucket_counts[14], 1);
	opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(
	    req, NULL);
	free(buf);
	free(snap);
	red_setup(100);
}

static void test_instance_id(void **st)
{
	char a[OTLP_INSTANCE_ID_LEN], b[OTLP_INSTANCE_ID_LEN], c[OTLP_INSTANCE_ID_LEN];

	otlp_instance_id("h", NULL, 1, 2, a);
	otlp_instance_id("h", NULL, 1, 2, b);
	otlp_instance_id("h", NULL, 1, 3, c);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), 36);
	assert_int_equal(a[14], '8'); /* version 8 */
	assert_true(strchr("89ab", a[19]) != NULL);
}

static void test_kvs(void **st)
{
	struct otlp_kvs k;

	assert_int_equal(otlp_kvs_parse(" a = b ,c=d%20e%2C%3Df,,auth=Bearer%20x==", &k), 0);
	assert_int_equal(k.n, 3);
	assert_string_equal(k.v[0].key, "a");
	assert_string_equal(k.v[0].val, "b");
	assert_string_equal(k.v[1].key, "c");
	assert_string_equal(k.v[1].val, "d e,=f");
	assert_string_equal(otlp_kvs_get(&k, "auth"), "Bearer x==");
	assert_null(otlp_kvs_get(&k, "zz"));
	otlp_kvs_free(&k);
	assert_int_equal(otlp_kvs_parse("novalue", &k), -EINVAL);
	assert_int_equal(k.n, 0);
	assert_int_equal(otlp_kvs_parse("=v", &k), -EINVAL);
	assert_int_equal(otlp_kvs_parse("a=%2", &k), -EINVAL);
	assert_int_equal(otlp_kvs_parse("a=%zz", &k), -EINVAL);
	assert_int_equal(otlp_kvs_parse("a=1,b", &k), -EINVAL);
	assert_int_equal(otlp_kvs_parse("", &k), 0);
	assert_int_equal(k.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_traces),
	    cmocka_unit_test(test_metrics),
	    cmocka_unit_test(test_instance_id),
	    cmocka_unit_test(test_kvs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
