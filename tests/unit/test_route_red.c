// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Route templating and its cap; RED histogram bucketing, series cap and Prometheus output. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "prom.h"
#include "red.h"
#include "route.h"


static const char *tmpl(const char *path)
{
	static char out[SPAN_ROUTE_MAX];

	route_template(path, out, sizeof(out));
	return out;
}

static void test_template(void **st)
{
	assert_string_equal(tmpl("/"), "/");
	assert_string_equal(tmpl("/users/123"), "/users/{id}");
	assert_string_equal(tmpl("/users/123/orders/9"), "/users/{id}/orders/{id}");
	assert_string_equal(tmpl("/users/5f0c3a9be2d14c2e"), "/users/{id}");
	assert_string_equal(tmpl("/u/550e8400-e29b-41d4-a716-446655440000/x"), "/u/{id}/x");
	assert_string_equal(tmpl("/t/dGhpcyBpcyBhIHRva2VuMTIz"), "/t/{id}");
	assert_string_equal(tmpl("/d/2024-05-01"), "/d/{id}");
	/* words, versions and short mixed names stay */
	assert_string_equal(tmpl("/api/v1/users"), "/api/v1/users");
	assert_string_equal(tmpl("/static/app.js"), "/static/app.js");
	assert_string_equal(tmpl("/deadbeef"), "/deadbeef");
	assert_string_equal(tmpl("/users/"), "/users/");
	assert_string_equal(tmpl("*"), "*");
}

static void span_for(struct http_span *s, const char *svc, const char *path)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->service_name, sizeof(s->service_name), "%s", svc);
	snprintf(s->path, sizeof(s->path), "%s", path);
	strcpy(s->method, "GET");
}

static void test_patterns(void **st)
{
	const char *pats[] = {"/api/orders/{id}", "/files/{path...}", "/x/{a}/y"};
	struct http_span s;

	assert_int_equal(route_setup(pats, 3, 500), 0);
	span_for(&s, "svc", "/api/orders/abc");
	route_fill(&s);
	assert_string_equal(s.route, "/api/orders/{id}");
	span_for(&s, "svc", "/api/orders/abc/items");
	route_fill(&s);
	assert_string_equal(s.route, "/api/orders/abc/items");
	span_for(&s, "svc", "/files/a/b/c.txt");
	route_fill(&s);
	assert_string_equal(s.route, "/files/{path...}");
	span_for(&s, "svc", "/x/hello/y");
	route_fill(&s);
	assert_string_equal(s.route, "/x/{a}/y");
	span_for(&s, "svc", "/x//y");
	route_fill(&s);
	assert_string_equal(s.route, "/x//y");
	route_fini();
	{
		const char *bad[] = {"no-slash"};
		const char *bad2[] = {"/a/{rest...}/b"};

		assert_int_equal(route_setup(bad, 1, 500), -EINVAL);
		assert_int_equal(route_setup(bad2, 1, 500), -EINVAL);
	}
}

static void test_cap(void **st)
{
	struct http_span s;
	char path[64];

	assert_int_equal(route_setup(NULL, 0, 3), 0);
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/page%c", 'a' + i);
		span_for(&s, "svc", path);
		route_fill(&s);
		assert_string_equal(s.route, path);
	}
	span_for(&s, "svc", "/paged");
	route_fill(&s);
	assert_string_equal(s.route, ROUTE_OVERFLOW);
	assert_int_equal(route_folded_total(), 1);
	/* known routes still pass, other services have their own budget */
	span_for(&s, "svc", "/pagea");
	route_fill(&s);
	assert_string_equal(s.route, "/pagea");
	span_for(&s, "other", "/paged");
	route_fill(&s);
	assert_string_equal(s.route, "/paged");
	/* ids do not use up the budget */
	span_for(&s, "svc", "/pagea/12345");
	route_fill(&s);
	assert_string_equal(s.route, ROUTE_OVERFLOW);
	assert_int_equal(route_folded_total(), 2);
	route_fini();
}

static void test_buckets(void **st)
{
	assert_int_equal(red_bucket(0), 0);
	assert_int_equal(red_bucket(0.005), 0); /* upper bounds are inclusive */
	assert_int_equal(red_bucket(0.0050001), 1);
	assert_int_equal(red_bucket(0.075), 4);
	assert_int_equal(red_bucket(1), 9);
	assert_int_equal(red_bucket(10), 13);
	assert_int_equal(red_bucket(10.5), 14);
	assert_string_equal(red_method("GET"), "GET");
	assert_string_equal(red_method("get"), "_OTHER");
	assert_string_equal(red_method("PURGE"), "_OTHER");
}

static void rec(const char *svc, const char *route, uint16_t status, uint64_t dur_ns)
{
	struct http_span s;

	span_for(&s, svc, route);
	snprintf(s.route, sizeof(s.route), "%s", route);
	s.status_code = status;
	s.start_ns = 1000;
	s.end_ns = 1000 + dur_ns;
	s.span_id[0] = 1;
	red_record(&s);
}

static void test_red_series_cap(void **st)
{
	struct red_series *snap;
	unsigned n;
	uint64_t start;

	red_setup(2);
	rec("a", "/x", 200, 1000000);
	rec("a", "/x", 200, 2000000);
	rec("a", "/y", 500, 30000000);
	rec("a", "/z", 200, 1000000); /* third series: overflow */
	rec("a", "/w", 200, 1000000);
	rec("a", "/x", 200, 1000000); /* known series still counted */
	assert_int_equal(red_folded_total(), 2);
	assert_int_equal(red_snapshot(&snap, &n, &start), 0);
	assert_int_equal(n, 3);
	assert_string_equal(snap[0].route, "/x");
	assert_int_equal(snap[0].count, 3);
	assert_int_equal(snap[0].buckets[0], 3);
	assert_int_equal(snap[1].status, 500);
	assert_int_equal(snap[1].buckets[3], 1); /* 30 ms <= 0.05 */
	assert_true(snap[2].overflow);
	assert_int_equal(snap[2].count, 2);
	free(snap);
}

static void test_red_prom(void **st)
{
	struct prom_buf b;

	red_setup(10);
	rec("shop", "/users/{id}", 200, 3000000);
	rec("shop", "/users/{id}", 200, 60000000);
	rec("shop", "/boom", 503, 1000000);
	prom_buf_init(&b);
	assert_int_equal(red_prom_write(&b, NULL), 0);
	assert_non_null(strstr(b.data, "# TYPE http_server_request_duration_seconds histogram\n"));
	assert_non_null(strstr(
	    b.data,
	    "http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method="
	    "\"GET\",http_route=\"/users/{id}\",http_response_status_code=\"200\",le=\"0.005\"} "
	    "1\n"));
	assert_non_null(strstr(
	    b.data,
	    "http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method="
	    "\"GET\",http_route=\"/users/{id}\",http_response_status_code=\"200\",le=\"0.075\"} "
	    "2\n"));
	assert_non_null(strstr(
	    b.data,
	    "http_server_request_duration_seconds_bucket{service_name=\"shop\",http_request_method="
	    "\"GET\",http_route=\"/users/{id}\",http_response_status_code=\"200\",le=\"+Inf\"} "
	    "2\n"));
	assert_non_null(strstr(
	    b.data,
	    "http_server_request_duration_seconds_count{service_name=\"shop\",http_request_method="
	    "\"GET\",http_route=\"/users/{id}\",http_response_status_code=\"200\"} 2\n"));
	assert_non_null(strstr(b.data, "http_response_status_code=\"503\",error_type=\"503\","
				       "le=\"0.005\"} 1\n"));
	assert_non_null(strstr(b.data, "o11y_ebpf_routes_folded_total 0\n"));
	prom_buf_free(&b);
	red_setup(10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_template),
	    cmocka_unit_test(test_patterns),
	    cmocka_unit_test(test_cap),
	    cmocka_unit_test(test_buckets),
	    cmocka_unit_test(test_red_series_cap),
	    cmocka_unit_test(test_red_prom),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
