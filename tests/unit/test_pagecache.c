// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "pagecache.h"

/* per-process counters fold into their service; growth only; a forgotten pid starts over */
static void test_agg(void **st)
{
	struct pc_agg *a = pc_agg_new();
	struct pc_service *s;
	unsigned n;

	assert_non_null(a);
	assert_int_equal(pc_agg_proc(a, 10, "web", 100, 40), 0);
	assert_int_equal(pc_agg_proc(a, 11, "web", 50, 0), 0);
	assert_int_equal(pc_agg_proc(a, 12, "db", 8, 8), 0);
	assert_int_equal(pc_agg_proc(a, 10, "web", 160, 40), 0); /* +60 lookups, all hits */
	assert_true(pc_agg_known(a, 10, NULL, 0));
	pc_agg_forget(a, 11);
	assert_false(pc_agg_known(a, 11, NULL, 0));
	/* a thread of 10 exited while read: less for one round, then the whole again */
	assert_int_equal(pc_agg_proc(a, 10, "web", 150, 35), 0);
	assert_int_equal(pc_agg_proc(a, 10, "web", 170, 41), 0); /* +10 lookups, +1 miss */
	/* pid 12 exec'd into cat: what grows from now on is cat's */
	assert_int_equal(pc_agg_proc(a, 12, "cat", 11, 9), 0);
	/* pid 11 reused after it was forgotten: counted from zero */
	assert_int_equal(pc_agg_proc(a, 11, "web", 5, 5), 0);
	assert_int_equal(pc_agg_services(a, &s, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(s[0].name, "cat");
	assert_int_equal(s[0].c.lookups, 3);
	assert_int_equal(s[0].c.misses, 1);
	assert_int_equal(s[0].c.hits, 2);
	assert_string_equal(s[1].name, "db");
	assert_int_equal(s[1].c.hits, 0);
	assert_int_equal(s[1].c.misses, 8);
	assert_string_equal(s[2].name, "web");
	assert_int_equal(s[2].c.lookups, 100 + 50 + 60 + 10 + 5);
	assert_int_equal(s[2].c.misses, 40 + 1 + 5);
	assert_int_equal(s[2].c.hits, 225 - 46);
	free(s);
	pc_agg_free(a);
}

/* a request's record with its files' paths; a path the kernel no longer has is empty, truncated */
static void test_req_to_span(void **st)
{
	static struct o11y_pc_req r;
	static struct o11y_pc_path paths[O11Y_PC_REQ_FILES];
	static struct http_span s;

	memset(&r, 0, sizeof(r));
	memset(paths, 0, sizeof(paths));
	r.lookups = 7;
	r.misses = 3;
	r.nfiles = 3;
	r.files[0] = (struct o11y_pc_file){.lookups = 4, .misses = 3, .bytes = 16384, .path_id = 9};
	r.files[1] = (struct o11y_pc_file){.lookups = 2, .bytes = 5000, .path_id = 10};
	r.files[2] = (struct o11y_pc_file){.lookups = 1, .bytes = 10, .path_id = 11};
	paths[0].len = 11;
	memcpy(paths[0].path, "/srv/a.html", 11);
	paths[1].len = 6;
	paths[1].flags = O11Y_PC_PATH_TRUNCATED;
	memcpy(paths[1].path, "/x/y.z", 6);
	pc_req_to_span(&r, paths, &s);
	assert_true(s.has_page_cache);
	assert_int_equal(s.pc_hits, 4);
	assert_int_equal(s.pc_misses, 3);
	assert_int_equal(s.pc_nfiles, 3);
	assert_string_equal(s.pc_files[0].path, "/srv/a.html");
	assert_false(s.pc_files[0].path_truncated);
	assert_int_equal(s.pc_files[0].hits, 1);
	assert_int_equal(s.pc_files[0].misses, 3);
	assert_string_equal(s.pc_files[1].path, "/x/y.z");
	assert_true(s.pc_files[1].path_truncated);
	assert_string_equal(s.pc_files[2].path, "");
	assert_true(s.pc_files[2].path_truncated);
	assert_int_equal(s.pc_files[2].bytes, 10);
}

static bool gone_odd(uint32_t tgid)
{
	return tgid & 1;
}

/* a sweep forgets the processes not reported since the last sweep that are gone, only them */
static void test_agg_sweep(void **st)
{
	struct pc_agg *a = pc_agg_new();

	assert_non_null(a);
	for (uint32_t t = 1; t <= 4; t++)
		assert_int_equal(pc_agg_proc(a, t, "x", t, 0), 0);
	pc_agg_sweep(a, gone_odd); /* all reported this round: kept */
	for (uint32_t t = 1; t <= 4; t++)
		assert_true(pc_agg_known(a, t, NULL, 0));
	assert_int_equal(pc_agg_proc(a, 1, "x", 1, 0), 0);
	pc_agg_sweep(a, gone_odd);
	assert_true(pc_agg_known(a, 1, NULL, 0));  /* reported */
	assert_true(pc_agg_known(a, 2, NULL, 0));  /* not reported, alive */
	assert_false(pc_agg_known(a, 3, NULL, 0)); /* not reported, gone */
	assert_true(pc_agg_known(a, 4, NULL, 0));
	pc_agg_free(a);
}

/* exported hits never go down, even when misses catch up with lookups counted earlier */
static void test_counts_monotonic(void **st)
{
	struct pc_counts c = {0};

	pc_counts_update(&c, 256, 64);
	assert_int_equal(c.hits, 192);
	pc_counts_update(&c, 256, 128);
	assert_int_equal(c.hits, 192);
	assert_int_equal(c.misses, 128);
	pc_counts_update(&c, 512, 128);
	assert_int_equal(c.hits, 384);
}

static void test_prom(void **st)
{
	struct pc_counts host = {.lookups = 30, .misses = 10, .hits = 20};
	struct pc_service svc[1] = {{.name = "ng\"x", .c = {5, 1, 4}}};
	struct prom_buf b;

	prom_buf_init(&b);
	assert_int_equal(pc_prom_write(&b, &host, svc, 1), 0);
	assert_non_null(strstr(b.data, "# TYPE node_page_cache_hits_total counter\n"
				       "node_page_cache_hits_total 20\n"));
	assert_non_null(strstr(b.data, "\nnode_page_cache_misses_total 10\n"));
	assert_non_null(
	    strstr(b.data, "node_page_cache_service_hits_total{service_name=\"ng\\\"x\"} 4\n"));
	assert_non_null(
	    strstr(b.data, "node_page_cache_service_misses_total{service_name=\"ng\\\"x\"} 1\n"));
	prom_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_agg),		cmocka_unit_test(test_agg_sweep),
	    cmocka_unit_test(test_req_to_span), cmocka_unit_test(test_counts_monotonic),
	    cmocka_unit_test(test_prom),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
