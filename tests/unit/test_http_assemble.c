// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "http_assemble.h"
#include "o11y/http.h"
#include "pagecache.h"
#include "span_print.h"

#define MS 1000000ULL
#define OFFSET 1700000000000000000LL /* wall = mono + OFFSET */

static struct http_span spans[16];
static unsigned nspans;
static uint64_t k_last, k_bytes;
static int k_ret;

static void emit(const struct http_span *s, void *ctx)
{
	assert_true(nspans < 16);
	spans[nspans++] = *s;
}

static int conn_state(void *ctx, uint64_t id, uint64_t *last, uint64_t *bytes)
{
	*last = k_last;
	*bytes = k_bytes;
	return k_ret;
}

static bool proc(uint32_t pid, char *service, char *exe, size_t size)
{
	snprintf(service, size, "svc%u", pid);
	snprintf(exe, size, "exe%u", pid);
	return pid != 666;
}

static struct http_asm *setup(void)
{
	struct http_asm *a = http_asm_new(emit, NULL, conn_state, NULL);

	assert_non_null(a);
	http_asm_set_proc(a, proc);
	http_asm_set_clock_offset(a, OFFSET);
	nspans = 0;
	k_last = k_bytes = 0;
	k_ret = 0;
	return a;
}

static void ev(struct http_asm *a, int type, uint64_t conn, uint64_t ts, const char *data,
	       uint32_t len, uint64_t prev_end, uint64_t prev_bytes)
{
	static struct o11y_http_event e;
	size_t n = data ? strlen(data) : 0;

	memset(&e, 0, sizeof(e));
	e.hdr.type = type;
	e.hdr.tgid = 100;
	e.hdr.ts_ns = ts;
	e.conn_id = conn;
	e.prev_end_ns = prev_end;
	e.prev_resp_bytes = prev_bytes;
	e.tuple.family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", e.tuple.laddr);
	inet_pton(AF_INET, "127.0.0.2", e.tuple.raddr);
	e.tuple.lport = 8080;
	e.tuple.rport = 40000;
	memcpy(e.data, data ? data : "", n);
	e.data_len = n;
	e.len = len ? len : n;
	assert_int_equal(http_asm_event(a, &e, sizeof(e)), 0);
}

#define REQ(a, c, ts, d) ev(a, O11Y_EV_HTTP_REQ, c, ts, d, 0, 0, 0)
#define RESP(a, c, ts, d, len) ev(a, O11Y_EV_HTTP_RESP, c, ts, d, len, 0, 0)

static void test_simple(void **st)
{
	struct http_asm *a = setup();
	char json[4096];

	REQ(a, 1, 10 * MS, "GET /a?x=1 HTTP/1.1\r\nUser-Agent: t/1\r\n\r\n");
	assert_int_equal(nspans, 0);
	RESP(a, 1, 60 * MS, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0);
	assert_int_equal(nspans, 1);
	assert_string_equal(spans[0].method, "GET");
	assert_string_equal(spans[0].path, "/a");
	assert_int_equal(spans[0].status_code, 200);
	assert_int_equal(spans[0].start_ns, OFFSET + 10 * MS);
	assert_int_equal(spans[0].end_ns, OFFSET + 60 * MS);
	assert_string_equal(spans[0].client_addr, "127.0.0.2");
	assert_int_equal(spans[0].client_port, 40000);
	assert_int_equal(spans[0].server_port, 8080);
	assert_string_equal(spans[0].service_name, "svc100");
	assert_string_equal(spans[0].exe_name, "exe100");
	assert_int_equal(spans[0].pid, 100);
	assert_false(spans[0].has_parent);
	assert_true(span_format_json(&spans[0], json, sizeof(json)) > 0);
	assert_non_null(strstr(json, "\"name\":\"GET\",\"kind\":\"server\""));
	assert_non_null(strstr(json, "\"url.path\":\"/a\""));
	assert_non_null(strstr(json, "\"http.response.status_code\":200,\"server.port\":8080"));
	assert_non_null(strstr(json, "\"status\":\"unset\""));
	assert_non_null(strstr(json, "\"network.protocol.version\":\"1.1\""));
	assert_non_null(strstr(json,
			       "\"resource\":{\"service.name\":\"svc100\",\"process.pid\":100,"
			       "\"process.executable.name\":\"exe100\"}"));
	http_asm_free(a);
}

static uint64_t pc_conn, pc_req;

/* the kernel's record of the request: two files, one missed */
static void pc_fill(void *ctx, uint64_t conn_id, uint64_t req_ts, uint64_t end_mono,
		    struct http_span *s)
{
	static struct o11y_pc_req r;
	static struct o11y_pc_path paths[O11Y_PC_REQ_FILES];

	pc_conn = conn_id;
	pc_req = req_ts;
	memset(&r, 0, sizeof(r));
	memset(paths, 0, sizeof(paths));
	r.lookups = 12;
	r.misses = 2;
	r.nfiles = 2;
	r.files[0].lookups = 10;
	r.files[0].misses = 2;
	r.files[0].bytes = 40000;
	r.files[0].first_ns = 11 * MS;
	r.files[0].last_ns = 12 * MS;
	paths[0].len = 8;
	memcpy(paths[0].path, "/www/big", 8);
	r.files[1].lookups = 2;
	r.files[1].bytes = 100;
	paths[1].len = 10;
	paths[1].flags = O11Y_PC_PATH_TRUNCATED;
	memcpy(paths[1].path, "/c/small.t", 10);
	pc_req_to_span(&r, paths, s);
}

static void test_page_cache(void **st)
{
	struct http_asm *a = setup();
	char json[4096], sid[17];

	http_asm_set_pagecache(a, pc_fill, NULL);
	REQ(a, 7, 10 * MS, "GET /big HTTP/1.1\r\n\r\n");
	RESP(a, 7, 20 * MS, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0);
	assert_int_equal(nspans, 1);
	assert_int_equal(pc_conn, 7);
	assert_int_equal(pc_req, 10 * MS); /* the REQ event's time keys the kernel record */
	assert_true(spans[0].has_page_cache);
	assert_int_equal(spans[0].pc_hits, 10);
	assert_int_equal(spans[0].pc_misses, 2);
	assert_int_equal(spans[0].pc_nfiles, 2);
	assert_int_equal(spans[0].pc_files[0].start_ns, OFFSET + 11 * MS);
	assert_int_equal(spans[0].pc_files[0].end_ns, OFFSET + 12 * MS);
	assert_memory_not_equal(spans[0].pc_files[0].span_id, "\0\0\0\0\0\0\0\0", 8);
	assert_true(span_format_json(&spans[0], json, sizeof(json)) > 0);
	assert_non_null(strstr(json, ",\"o11y.page_cache.hits\":10,\"o11y.page_cache.misses\":2}"));
	assert_true(span_format_file_json(&spans[0], 0, json, sizeof(json)) > 0);
	span_hex(spans[0].span_id, 8, sid);
	assert_non_null(strstr(json, "\"name\":\"file.read\",\"kind\":\"internal\""));
	assert_non_null(strstr(json, sid));
	assert_non_null(strstr(json, "\"file.path\":\"/www/big\",\"o11y.file.bytes_read\":40000,"
				     "\"o11y.page_cache.hit\":false,\"o11y.page_cache.hits\":8,"
				     "\"o11y.page_cache.misses\":2"));
	assert_true(span_format_file_json(&spans[0], 1, json, sizeof(json)) > 0);
	assert_non_null(
	    strstr(json, "\"file.path\":\"/c/small.t\",\"o11y.file.path_truncated\":true"));
	assert_non_null(strstr(json, "\"o11y.page_cache.hit\":true"));
	http_asm_free(a);
}

static void test_pipelined(void **st)
{
	struct http_asm *a = setup();

	REQ(a, 2, 1 * MS,
	    "GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcDELETE /3 "
	    "HTTP/1.1\r\n\r\n");
	/* two responses in one send, the third alone */
	RESP(a, 2, 2 * MS,
	     "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: "
	     "1\r\n\r\nx",
	     0);
	assert_int_equal(nspans, 2);
	RESP(a, 2, 3 * MS, "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n", 0);
	assert_int_equal(nspans, 3);
	assert_string_equal(spans[0].path, "/1");
	assert_int_equal(spans[0].status_code, 200);
	assert_string_equal(spans[1].path, "/2");
	assert_string_equal(spans[1].method, "POST");
	assert_int_equal(spans[1].status_code, 201);
	assert_string_equal(spans[2].path, "/3");
	assert_int_equal(spans[2].status_code, 500);
	assert_int_equal(spans[2].end_ns, OFFSET + 3 * MS);
	http_asm_free(a);
}

static void test_body_later_ends_at_next_request(void **st)
{
	struct http_asm *a = setup();

	REQ(a, 3, 1 * MS, "GET /big HTTP/1.1\r\n\r\n");
	/* head by writev, body by sendfile: the kernel saw only the head as a RESP */
	RESP(a, 3, 2 * MS, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n", 0);
	assert_int_equal(nspans, 0);
	/* next request carries the previous response's last send */
	ev(a, O11Y_EV_HTTP_REQ, 3, 90 * MS, "GET /next HTTP/1.1\r\n\r\n", 0, 80 * MS, 1000043);
	assert_int_equal(nspans, 1);
	assert_string_equal(spans[0].path, "/big");
	assert_int_equal(spans[0].end_ns, OFFSET + 80 * MS);
	assert_int_equal(spans[0].resp_bytes, 1000043);
	http_asm_free(a);
}

static void test_tick_completes_from_kernel_state(void **st)
{
	struct http_asm *a = setup();

	REQ(a, 4, 1 * MS, "GET /f HTTP/1.1\r\n\r\n");
	RESP(a, 4, 2 * MS, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 0);
	k_last = 30 * MS;
	k_bytes = 50; /* not all sent yet */
	http_asm_tick(a, 100 * MS);
	assert_int_equal(nspans, 0);
	k_last = 40 * MS;
	k_bytes = 40 + 100;	    /* head (40) and body */
	http_asm_tick(a, 120 * MS); /* checked less than 50 ms ago: not yet */
	assert_int_equal(nspans, 0);
	http_asm_tick(a, 200 * MS);
	assert_int_equal(nspans, 1);
	assert_int_equal(spans[0].end_ns, OFFSET + 40 * MS);
	http_asm_free(a);
}

static void test_close_ends_http10_and_drops_unanswered(void **st)
{
	struct http_asm *a = setup();

	REQ(a, 5, 1 * MS, "GET /old HTTP/1.0\r\n\r\n");
	RESP(a, 5, 2 * MS, "HTTP/1.0 200 OK\r\n\r\n", 0); /* no length: ends at close */
	assert_int_equal(nspans, 0);
	ev(a, O11Y_EV_HTTP_CLOSE, 5, 9 * MS, NULL, 0, 7 * MS, 500);
	assert_int_equal(nspans, 1);
	assert_int_equal(spans[0].end_ns, OFFSET + 7 * MS);
	assert_int_equal(spans[0].proto_minor, 0);
	/* a client that goes away mid-request: no span, no state */
	REQ(a, 6, 1 * MS, "GET /gone HTTP/1.1\r\nHost: x\r\n");
	ev(a, O11Y_EV_HTTP_CLOSE, 6, 9 * MS, NULL, 0, 0, 0);
	assert_int_equal(nspans, 1);
	assert_int_equal(http_asm_conns(a), 0);
	http_asm_free(a);
}

static void test_head_interim_chunked(void **st)
{
	struct http_asm *a = setup();

	REQ(a, 7, 1 * MS, "HEAD /h HTTP/1.1\r\n\r\n");
	RESP(a, 7, 2 * MS, "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", 0);
	assert_int_equal(nspans, 1); /* HEAD: no body whatever Content-Length says */
	REQ(a, 7, 3 * MS, "POST /up HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 9\r\n\r\n");
	RESP(a, 7, 4 * MS, "HTTP/1.1 100 Continue\r\n\r\n", 0);
	assert_int_equal(nspans, 1);
	RESP(a, 7, 5 * MS, "HTTP/1.1 204 No Content\r\n\r\n", 0);
	assert_int_equal(nspans, 2);
	assert_int_equal(spans[1].status_code, 204);
	assert_int_equal(spans[1].start_ns, OFFSET + 3 * MS);
	REQ(a, 7, 6 * MS, "GET /c HTTP/1.1\r\n\r\n");
	RESP(a, 7, 7 * MS,
	     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n", 0);
	assert_int_equal(nspans, 3);
	http_asm_free(a);
}

static void test_traceparent_and_filter(void **st)
{
	struct http_asm *a = setup();
	static const uint8_t tid[16] = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
					0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36};

	REQ(a, 8, 1 * MS,
	    "GET / HTTP/1.1\r\ntraceparent: "
	    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n");
	RESP(a, 8, 2 * MS, "HTTP/1.1 503 x\r\nContent-Length: 0\r\n\r\n", 0);
	assert_int_equal(nspans, 1);
	assert_true(spans[0].has_parent);
	assert_memory_equal(spans[0].trace_id, tid, 16);
	assert_int_equal(spans[0].parent_span_id[7], 0xb7);
	http_asm_free(a);
}

static void test_not_http(void **st)
{
	struct http_asm *a = setup();

	REQ(a, 9, 1 * MS, "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	RESP(a, 9, 2 * MS, "HTTP/1.1 414 URI Too Long\r\nContent-Length: 0\r\n\r\n", 0);
	RESP(a, 10, 2 * MS, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0);
	assert_int_equal(nspans, 0);
	http_asm_free(a);
}

/* Records are only as long as their head: one cut short of its data_len is not used. */
static void test_record_sizes(void **st)
{
	struct http_asm *a = setup();
	static struct o11y_http_event e;
	const char req[] = "GET /small HTTP/1.1\r\n\r\n";
	const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	size_t hdr = offsetof(struct o11y_http_event, data);

	memset(&e, 0, sizeof(e));
	e.hdr.type = O11Y_EV_HTTP_REQ;
	e.hdr.tgid = 100;
	e.hdr.ts_ns = 1 * MS;
	e.conn_id = 11;
	e.tuple.family = AF_INET;
	memcpy(e.data, req, sizeof(req) - 1);
	e.data_len = e.len = sizeof(req) - 1;
	/* cut short: ignored, no request queued */
	assert_int_equal(http_asm_event(a, &e, hdr + e.data_len - 1), 0);
	assert_int_equal(http_asm_conns(a), 0);
	/* the small record size the kernel uses for short heads */
	assert_int_equal(http_asm_event(a, &e, hdr + O11Y_HTTP_SMALL_DATA), 0);
	e.hdr.type = O11Y_EV_HTTP_RESP;
	e.hdr.ts_ns = 2 * MS;
	memset(e.data, 0, sizeof(e.data));
	memcpy(e.data, resp, sizeof(resp) - 1);
	e.data_len = e.len = sizeof(resp) - 1;
	assert_int_equal(http_asm_event(a, &e, hdr + O11Y_HTTP_SMALL_DATA), 0);
	assert_int_equal(nspans, 1);
	assert_string_equal(spans[0].path, "/small");
	/* a close record has no data at all */
	e.hdr.type = O11Y_EV_HTTP_CLOSE;
	e.data_len = e.len = 0;
	assert_int_equal(http_asm_event(a, &e, hdr), 0);
	assert_int_equal(http_asm_conns(a), 0);
	http_asm_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_simple),
	    cmocka_unit_test(test_pipelined),
	    cmocka_unit_test(test_body_later_ends_at_next_request),
	    cmocka_unit_test(test_tick_completes_from_kernel_state),
	    cmocka_unit_test(test_close_ends_http10_and_drops_unanswered),
	    cmocka_unit_test(test_head_interim_chunked),
	    cmocka_unit_test(test_traceparent_and_filter),
	    cmocka_unit_test(test_not_http),
	    cmocka_unit_test(test_record_sizes),
	    cmocka_unit_test(test_page_cache),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
