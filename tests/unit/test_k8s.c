// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Kubernetes metadata: pods from list and watch JSON fixtures, the pod table, service.name
 * precedence, and the pod attributes on RED series (Prometheus labels) and OTLP resources.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_collector_metrics.pb-c.h"
#include "otlp_collector_trace.pb-c.h"
#include "k8s_meta.h"
#include "otlp_encode.h"
#include "prom.h"
#include "red.h"

#define FIX "tests/fixtures/k8s/"
#define WEB_UID "0b5e6c2a-3d4f-4a8b-9c1d-2e3f4a5b6c7d"
#define WEB_CID "3f1e9a7c5b2d4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f"
#define FLB_UID "11111111-2222-4333-8444-555555555555"
#define API_UID "44444444-5555-4666-8777-888888888888"

typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;

static char *slurp(const char *name, size_t *len)
{
	char path[256];
	char *buf;
	long n;
	FILE *f;

	snprintf(path, sizeof(path), FIX "%s", name);
	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int put_table(void *ctx, const struct k8s_pod *p)
{
	return k8s_pods_put(ctx, p);
}

/* both pages of the list fixture in a new table */
static struct k8s_pods *load(unsigned cap)
{
	struct k8s_pods *t = k8s_pods_new(cap);
	char rv[K8S_RV_MAX], cont[512];
	size_t len;
	char *body;

	assert_non_null(t);
	body = slurp("podlist-page1.json", &len);
	assert_int_equal(k8s_list_parse(body, len, put_table, t, rv, cont, sizeof(cont)), 2);
	assert_string_equal(rv, "48213");
	assert_true(strncmp(cont, "eyJ2Ijoi", 8) == 0);
	free(body);
	body = slurp("podlist-page2.json", &len);
	/* the item without a uid is skipped */
	assert_int_equal(k8s_list_parse(body, len, put_table, t, rv, cont, sizeof(cont)), 2);
	assert_string_equal(cont, "");
	free(body);
	return t;
}

static void test_list(void **st)
{
	struct k8s_pods *t = load(16);
	const struct k8s_pod *p;

	assert_int_equal(t->n, 4);
	p = k8s_pods_get(t, WEB_UID);
	assert_non_null(p);
	assert_string_equal(p->name, "web-7d4b9c6f5-x2x9k");
	assert_string_equal(p->namespace_name, "shop");
	assert_string_equal(p->node_name, "node-a");
	assert_string_equal(p->app_name, "storefront");
	assert_string_equal(p->pod_template_hash, "7d4b9c6f5");
	assert_int_equal(p->owner_kind, SPAN_K8S_REPLICASET);
	assert_string_equal(p->owner_name, "web-7d4b9c6f5");
	assert_int_equal(p->top_kind, SPAN_K8S_NONE); /* the API thread resolves it */
	assert_int_equal(p->ncontainers, 3);          /* init containers included */
	assert_string_equal(p->c[0].id, WEB_CID);
	assert_string_equal(p->c[0].name, "web");
	assert_string_equal(p->c[2].name, "migrate");

	p = k8s_pods_get(t, FLB_UID);
	assert_non_null(p);
	assert_int_equal(p->owner_kind, SPAN_K8S_DAEMONSET);
	assert_string_equal(p->owner_name, "fluent-bit");
	assert_int_equal(p->ncontainers, 1); /* the pending one has no id yet */
	assert_string_equal(p->c[0].id, "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc");

	/* a Job named <cronjob>-<minutes> */
	p = k8s_pods_get(t, "22222222-3333-4444-8555-666666666666");
	assert_non_null(p);
	assert_int_equal(p->owner_kind, SPAN_K8S_JOB);
	assert_string_equal(p->owner_name, "report-28571640");
	assert_int_equal(p->top_kind, SPAN_K8S_CRONJOB);
	assert_string_equal(p->top_name, "report");

	/* a static pod: the cgroup shows kubelet's hash, the API the mirror pod's uid */
	p = k8s_pods_get(t, "6f7e8d9c0b1a2f3e4d5c6b7a8f9e0d1c");
	assert_non_null(p);
	assert_string_equal(p->name, "etcd-node-a");
	assert_int_equal(p->owner_kind, SPAN_K8S_NONE); /* owned by the Node */

	assert_null(k8s_pods_get(t, "99999999-3333-4444-8555-666666666666"));
	assert_null(k8s_pods_get(t, ""));
	assert_int_equal(k8s_list_parse("{\"kind\":\"Status\"}", 17, put_table, t, (char[64]){ 0 },
					(char[8]){ 0 }, 8),
			 -EINVAL);
	assert_int_equal(k8s_list_parse("{not json", 9, put_table, t, (char[64]){ 0 },
					(char[8]){ 0 }, 8),
			 -EINVAL);
	k8s_pods_free(t);
}

static void test_table(void **st)
{
	struct k8s_pods *t = load(4);
	struct k8s_pod p = *k8s_pods_get(t, WEB_UID);

	/* full: a new pod is refused, a known one is replaced */
	strcpy(p.uid, "55555555-3333-4444-8555-666666666666");
	assert_int_equal(k8s_pods_put(t, &p), -ENOSPC);
	strcpy(p.uid, WEB_UID);
	strcpy(p.name, "renamed");
	assert_int_equal(k8s_pods_put(t, &p), 0);
	assert_string_equal(k8s_pods_get(t, WEB_UID)->name, "renamed");
	assert_int_equal(t->n, 4);
	/* gone pods are forgotten */
	assert_int_equal(k8s_pods_del(t, FLB_UID), 0);
	assert_int_equal(k8s_pods_del(t, FLB_UID), -ENOENT);
	assert_null(k8s_pods_get(t, FLB_UID));
	assert_int_equal(t->n, 3);
	strcpy(p.uid, "55555555-3333-4444-8555-666666666666");
	assert_int_equal(k8s_pods_put(t, &p), 0);
	/* still sorted: every pod is found */
	assert_non_null(k8s_pods_get(t, WEB_UID));
	assert_non_null(k8s_pods_get(t, "22222222-3333-4444-8555-666666666666"));
	assert_non_null(k8s_pods_get(t, "33333333-4444-4555-8666-777777777777"));
	assert_non_null(k8s_pods_get(t, "55555555-3333-4444-8555-666666666666"));
	k8s_pods_free(t);
	k8s_pods_free(NULL);
}

static void span_for(struct http_span *s, const char *svc)
{
	memset(s, 0, sizeof(*s));
	s->pid = 100;
	strcpy(s->service_name, svc);
	strcpy(s->exe_name, "nginx");
}

static void test_fill(void **st)
{
	struct k8s_pods *t = load(16);
	struct cgroup_ident cg = { WEB_CID, WEB_UID };
	struct k8s_pod *web = (struct k8s_pod *)k8s_pods_get(t, WEB_UID);
	struct http_span s;

	/* the label wins over the owner and the executable */
	span_for(&s, "nginx");
	assert_true(k8s_pods_fill(t, &cg, false, &s));
	assert_string_equal(s.service_name, "storefront");
	assert_string_equal(s.k8s.namespace_name, "shop");
	assert_string_equal(s.k8s.pod_name, "web-7d4b9c6f5-x2x9k");
	assert_string_equal(s.k8s.pod_uid, WEB_UID);
	assert_string_equal(s.k8s.container_id, WEB_CID);
	assert_string_equal(s.k8s.container_name, "web");
	assert_string_equal(s.k8s.node_name, "node-a");
	assert_int_equal(s.k8s.owner_kind, SPAN_K8S_REPLICASET);
	assert_string_equal(s.k8s.owner_name, "web-7d4b9c6f5");

	/* OTEL_SERVICE_NAME of the process wins over everything */
	span_for(&s, "from-env");
	assert_true(k8s_pods_fill(t, &cg, true, &s));
	assert_string_equal(s.service_name, "from-env");
	assert_string_equal(s.k8s.pod_name, "web-7d4b9c6f5-x2x9k");

	/* no label: the Deployment over its ReplicaSet (named from pod-template-hash here) */
	web->app_name[0] = '\0';
	k8s_pod_guess_deployment(web);
	assert_int_equal(web->top_kind, SPAN_K8S_DEPLOYMENT);
	assert_string_equal(web->top_name, "web");
	span_for(&s, "nginx");
	assert_true(k8s_pods_fill(t, &cg, false, &s));
	assert_string_equal(s.service_name, "web");
	assert_int_equal(s.k8s.top_kind, SPAN_K8S_DEPLOYMENT);

	/* no label, no top owner: the owner (a DaemonSet) */
	strcpy(cg.pod_uid, FLB_UID);
	strcpy(cg.container_id, "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc");
	span_for(&s, "fluent-bit-bin");
	assert_true(k8s_pods_fill(t, &cg, false, &s));
	assert_string_equal(s.service_name, "fluent-bit");
	assert_string_equal(s.k8s.container_name, "fluent-bit");

	/* a container the pod status does not list yet: pod but no container name */
	strcpy(cg.container_id, "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee");
	span_for(&s, "x");
	assert_true(k8s_pods_fill(t, &cg, false, &s));
	assert_string_equal(s.k8s.container_name, "");
	assert_string_equal(s.k8s.container_id, cg.container_id);

	/* no owner, no label (the static pod): the executable name stays */
	strcpy(cg.pod_uid, "6f7e8d9c0b1a2f3e4d5c6b7a8f9e0d1c");
	span_for(&s, "etcd");
	assert_true(k8s_pods_fill(t, &cg, false, &s));
	assert_string_equal(s.service_name, "etcd");
	assert_string_equal(s.k8s.pod_uid, "33333333-4444-4555-8666-777777777777");

	/* unknown pod (not listed yet), and no API at all: ids from the cgroup only */
	strcpy(cg.pod_uid, "99999999-3333-4444-8555-666666666666");
	span_for(&s, "nginx");
	assert_false(k8s_pods_fill(t, &cg, false, &s));
	assert_false(k8s_pods_fill(NULL, &cg, false, &s));
	assert_string_equal(s.service_name, "nginx");
	assert_string_equal(s.k8s.pod_uid, "99999999-3333-4444-8555-666666666666");
	assert_string_equal(s.k8s.namespace_name, "");
	k8s_pods_free(t);
}

static void test_events(void **st)
{
	char *body, *line, *save = NULL, rv[K8S_RV_MAX] = "";
	struct k8s_pod p;
	int code = 0;
	size_t len;

	body = slurp("watch-events.jsonl", &len);
	line = strtok_r(body, "\n", &save);
	assert_int_equal(k8s_event_parse(line, strlen(line), &p, rv, &code), K8S_EV_ADDED);
	assert_string_equal(rv, "48300");
	assert_string_equal(p.uid, API_UID);
	assert_int_equal(p.owner_kind, SPAN_K8S_STATEFULSET);
	assert_string_equal(p.owner_name, "api");
	assert_int_equal(p.ncontainers, 1);
	line = strtok_r(NULL, "\n", &save);
	assert_int_equal(k8s_event_parse(line, strlen(line), &p, rv, &code), K8S_EV_MODIFIED);
	assert_string_equal(p.app_name, "api-svc");
	assert_string_equal(rv, "48301");
	line = strtok_r(NULL, "\n", &save);
	assert_int_equal(k8s_event_parse(line, strlen(line), &p, rv, &code), K8S_EV_BOOKMARK);
	assert_string_equal(rv, "48350");
	line = strtok_r(NULL, "\n", &save);
	assert_int_equal(k8s_event_parse(line, strlen(line), &p, rv, &code), K8S_EV_DELETED);
	assert_string_equal(p.uid, FLB_UID);
	assert_string_equal(rv, "48400");
	line = strtok_r(NULL, "\n", &save);
	assert_int_equal(k8s_event_parse(line, strlen(line), &p, rv, &code), K8S_EV_ERROR);
	assert_int_equal(code, 410);
	assert_string_equal(rv, "48400"); /* unchanged */
	free(body);
	assert_int_equal(k8s_event_parse("{\"type\":\"ADDED\"", 15, &p, rv, &code), -EINVAL);
	assert_int_equal(k8s_event_parse("{\"type\":\"WHAT\",\"object\":{}}", 27, &p, rv, &code),
			 -EINVAL);
}

static void test_replicaset(void **st)
{
	char name[SPAN_K8S_NAME_MAX];
	size_t len;
	char *body = slurp("replicaset.json", &len);
	static const char bare[] = "{\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"x\"}}";
	struct k8s_pod p = { .owner_kind = SPAN_K8S_REPLICASET };

	assert_int_equal(k8s_rs_owner_parse(body, len, name, sizeof(name)), 0);
	assert_string_equal(name, "web");
	free(body);
	assert_int_equal(k8s_rs_owner_parse(bare, strlen(bare), name, sizeof(name)), -ENOENT);
	assert_int_equal(k8s_rs_owner_parse("{\"kind\":\"Pod\"}", 14, name, sizeof(name)),
			 -EINVAL);
	/* the guess needs the hash to end the ReplicaSet's name */
	strcpy(p.owner_name, "web-abc");
	strcpy(p.pod_template_hash, "xyz");
	k8s_pod_guess_deployment(&p);
	assert_int_equal(p.top_kind, SPAN_K8S_NONE);
	strcpy(p.pod_template_hash, "abc");
	k8s_pod_guess_deployment(&p);
	assert_string_equal(p.top_name, "web");
}

struct collected {
	char text[2048];
};

static void collect(const char *key, const char *val, void *ctx)
{
	struct collected *c = ctx;
	size_t n = strlen(c->text);

	snprintf(c->text + n, sizeof(c->text) - n, "%s=%s;", key, val);
}

static void make_pod_span(struct http_span *s, const char *pod, const char *uid)
{
	span_for(s, "storefront");
	strcpy(s->method, "GET");
	strcpy(s->route, "/");
	s->status_code = 200;
	s->start_ns = 1700000000000000000ULL;
	s->end_ns = s->start_ns + 3000000;
	strcpy(s->k8s.container_id, WEB_CID);
	strcpy(s->k8s.pod_uid, uid);
	strcpy(s->k8s.namespace_name, "shop");
	strcpy(s->k8s.pod_name, pod);
	strcpy(s->k8s.container_name, "web");
	strcpy(s->k8s.node_name, "node-a");
	s->k8s.owner_kind = SPAN_K8S_REPLICASET;
	strcpy(s->k8s.owner_name, "web-7d4b9c6f5");
	s->k8s.top_kind = SPAN_K8S_DEPLOYMENT;
	strcpy(s->k8s.top_name, "web");
}

static void test_resource_attrs(void **st)
{
	struct collected c = { "" };
	struct http_span s;

	make_pod_span(&s, "web-1", WEB_UID);
	assert_int_equal(k8s_resource_attrs(&s.k8s, collect, &c), 9);
	assert_string_equal(c.text, "container.id=" WEB_CID ";k8s.pod.uid=" WEB_UID ";"
				    "k8s.namespace.name=shop;service.namespace=shop;"
				    "k8s.pod.name=web-1;k8s.container.name=web;k8s.node.name=node-a;"
				    "k8s.replicaset.name=web-7d4b9c6f5;k8s.deployment.name=web;");
	memset(&s.k8s, 0, sizeof(s.k8s));
	c.text[0] = '\0';
	assert_int_equal(k8s_resource_attrs(&s.k8s, collect, &c), 0);
	assert_string_equal(c.text, "");
}

/* the same service in two pods: two series, labelled by pod; a bare-host span: no k8s labels */
static void test_red_per_pod(void **st)
{
	struct http_span a, b, h;
	struct red_series *snap;
	struct prom_buf pb;
	unsigned n;
	uint64_t start;

	red_setup(100);
	make_pod_span(&a, "web-1", WEB_UID);
	make_pod_span(&b, "web-2", "0b5e6c2a-3d4f-4a8b-9c1d-2e3f4a5b6c7e");
	span_for(&h, "storefront");
	strcpy(h.method, "GET");
	strcpy(h.route, "/");
	h.status_code = 200;
	red_record(&a);
	red_record(&a);
	red_record(&b);
	red_record(&h);
	assert_int_equal(red_snapshot(&snap, &n, &start), 0);
	assert_int_equal(n, 3);
	assert_int_equal(snap[0].count, 2);
	assert_string_equal(snap[0].k8s.pod_name, "web-1");
	assert_int_equal(snap[1].count, 1);
	assert_string_equal(snap[1].k8s.pod_name, "web-2");
	free(snap);
	prom_buf_init(&pb);
	assert_int_equal(red_prom_write(&pb, NULL), 0);
	assert_non_null(strstr(pb.data, "http_server_request_duration_seconds_count{service_name="
					"\"storefront\",k8s_namespace_name=\"shop\",k8s_pod_name="
					"\"web-1\",http_request_method=\"GET\",http_route=\"/\","
					"http_response_status_code=\"200\"} 2\n"));
	assert_non_null(strstr(pb.data, "k8s_pod_name=\"web-2\",http_request_method=\"GET\","
					"http_route=\"/\",http_response_status_code=\"200\"} 1\n"));
	assert_non_null(strstr(pb.data, "http_server_request_duration_seconds_count{service_name="
					"\"storefront\",http_request_method=\"GET\"," "http_route=\"/\","
					"http_response_status_code=\"200\"} 1\n"));
	prom_buf_free(&pb);

	/* with the cap reached, each pod gets its own overflow series */
	red_setup(1);
	red_record(&a);
	strcpy(a.route, "/other");
	red_record(&a);
	red_record(&b);
	assert_int_equal(red_snapshot(&snap, &n, &start), 0);
	assert_int_equal(n, 3);
	assert_true(snap[1].overflow);
	assert_string_equal(snap[1].k8s.pod_name, "web-1");
	assert_true(snap[2].overflow);
	assert_string_equal(snap[2].k8s.pod_name, "web-2");
	free(snap);
	red_fini();
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

static const char *attr(KeyValue **kv, size_t n, const char *key)
{
	const KeyValue *a = find(kv, n, key);

	return a ? a->value->string_value : NULL;
}

static void test_otlp_resources(void **st)
{
	struct otlp_kvs extra = { 0 };
	struct otlp_res_cfg res = { .host_name = "node-a", .sdk_version = "1", .extra = &extra };
	struct http_span s[2];
	struct red_series *snap;
	uint8_t *buf;
	size_t len;
	unsigned n;
	uint64_t start;
	Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *tr;
	Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *mr;

	/* our own k8s attributes win over OTEL_RESOURCE_ATTRIBUTES; others are added */
	assert_int_equal(otlp_kvs_parse("k8s.namespace.name=wrong,k8s.cluster.name=c1", &extra), 0);
	make_pod_span(&s[0], "web-1", WEB_UID);
	make_pod_span(&s[1], "web-2", "0b5e6c2a-3d4f-4a8b-9c1d-2e3f4a5b6c7e");
	s[1].pid = 200;
	{
		const struct http_span *ps[] = { &s[0], &s[1] };

		assert_int_equal(otlp_encode_traces(ps, 2, &res, &buf, &len), 0);
	}
	tr = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
		NULL, len, buf);
	assert_non_null(tr);
	assert_int_equal(tr->n_resource_spans, 2);
	{
		KeyValue **ra = tr->resource_spans[1]->resource->attributes;
		size_t rn = tr->resource_spans[1]->resource->n_attributes;

		assert_string_equal(attr(ra, rn, "service.name"), "storefront");
		assert_string_equal(attr(ra, rn, "k8s.pod.name"), "web-2");
		assert_string_equal(attr(ra, rn, "k8s.namespace.name"), "shop");
		assert_string_equal(attr(ra, rn, "service.namespace"), "shop");
		assert_string_equal(attr(ra, rn, "k8s.deployment.name"), "web");
		assert_string_equal(attr(ra, rn, "k8s.replicaset.name"), "web-7d4b9c6f5");
		assert_string_equal(attr(ra, rn, "k8s.container.name"), "web");
		assert_string_equal(attr(ra, rn, "container.id"), WEB_CID);
		assert_string_equal(attr(ra, rn, "k8s.node.name"), "node-a");
		assert_string_equal(attr(ra, rn, "k8s.cluster.name"), "c1");
	}
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
		tr, NULL);
	free(buf);

	/* metrics: one resource per (service, pod), each its own service.instance.id */
	red_setup(100);
	red_record(&s[0]);
	red_record(&s[1]);
	assert_int_equal(red_snapshot(&snap, &n, &start), 0);
	assert_int_equal(otlp_encode_metrics(snap, n, start, start + 1, &res, &buf, &len), 0);
	free(snap);
	mr = opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(
		NULL, len, buf);
	assert_non_null(mr);
	assert_int_equal(mr->n_resource_metrics, 2);
	{
		KeyValue **r0 = mr->resource_metrics[0]->resource->attributes;
		KeyValue **r1 = mr->resource_metrics[1]->resource->attributes;
		size_t n0 = mr->resource_metrics[0]->resource->n_attributes;
		size_t n1 = mr->resource_metrics[1]->resource->n_attributes;

		assert_string_equal(attr(r0, n0, "k8s.pod.name"), "web-1");
		assert_string_equal(attr(r1, n1, "k8s.pod.name"), "web-2");
		assert_string_equal(attr(r1, n1, "service.name"), "storefront");
		assert_string_not_equal(attr(r0, n0, "service.instance.id"),
					attr(r1, n1, "service.instance.id"));
	}
	opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(
		mr, NULL);
	free(buf);
	otlp_kvs_free(&extra);
	red_fini();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list),	       cmocka_unit_test(test_table),
		cmocka_unit_test(test_fill),	       cmocka_unit_test(test_events),
		cmocka_unit_test(test_replicaset),     cmocka_unit_test(test_resource_attrs),
		cmocka_unit_test(test_red_per_pod),    cmocka_unit_test(test_otlp_resources),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
