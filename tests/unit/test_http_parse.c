// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "http_parse.h"

#define S(x) x, sizeof(x) - 1

static void test_request_basic(void **st)
{
	struct http_req_head h;
	const char r[] = "GET /users/42?token=secret#frag HTTP/1.1\r\nHost: a\r\n"
			 "User-Agent: curl/7.88.1\r\n\r\n";

	assert_int_equal(http_parse_request(S(r), &h), 0);
	assert_string_equal(h.method, "GET");
	assert_string_equal(h.path, "/users/42");
	assert_string_equal(h.user_agent, "curl/7.88.1");
	assert_int_equal(h.minor, 1);
	assert_true(h.complete);
	assert_int_equal(h.head_len, sizeof(r) - 1);
	assert_int_equal(h.content_length, -1);
	assert_false(h.has_traceparent);
}

static void test_request_methods(void **st)
{
	static const char *const ok[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS" };
	struct http_req_head h;
	char buf[128];

	for (unsigned i = 0; i < 7; i++) {
		int n = snprintf(buf, sizeof(buf), "%s /x HTTP/1.0\r\n\r\n", ok[i]);

		assert_int_equal(http_parse_request(buf, (size_t)n, &h), 0);
		assert_string_equal(h.method, ok[i]);
		assert_int_equal(h.minor, 0);
	}
	assert_int_equal(http_parse_request(S("GETX /x HTTP/1.1\r\n\r\n"), &h), -EINVAL);
	assert_int_equal(http_parse_request(S("get /x HTTP/1.1\r\n\r\n"), &h), -EINVAL);
}

static void test_request_not_http(void **st)
{
	struct http_req_head h;
	char big[2048];

	/* TLS ClientHello, binary, HTTP/2 preface, a request line longer than the capture */
	assert_int_equal(http_parse_request(S("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), &h),
			 -EINVAL);
	assert_int_equal(http_parse_request(S("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), &h), -EINVAL);
	assert_int_equal(http_parse_request(S("GET /x HTTP/2.0\r\n\r\n"), &h), -EINVAL);
	assert_int_equal(http_parse_request(S("GET  HTTP/1.1\r\n\r\n"), &h), -EINVAL);
	assert_int_equal(http_parse_request(S("GET /a b HTTP/1.1\r\n\r\n"), &h), -EINVAL);
	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', sizeof(big) - 5);
	assert_int_equal(http_parse_request(big, 1024, &h), -EINVAL);
	/* a control byte in the target */
	assert_int_equal(http_parse_request(S("GET /\x01 HTTP/1.1\r\n\r\n"), &h), -EINVAL);
}

static void test_request_split_headers(void **st)
{
	struct http_req_head h;

	assert_int_equal(http_parse_request(S("POST /p HTTP/1.1\r\nHost: a\r\nContent-Le"), &h), 0);
	assert_false(h.complete);
	assert_string_equal(h.path, "/p");
	assert_int_equal(http_parse_request(S("POST /p HTTP/1.1\nContent-Length: 12\n\n"), &h), 0);
	assert_true(h.complete);
	assert_int_equal(h.content_length, 12);
}

static void test_request_absolute_form(void **st)
{
	struct http_req_head h;

	assert_int_equal(http_parse_request(S("GET http://example.com/a/b?q HTTP/1.1\r\n\r\n"), &h),
			 0);
	assert_string_equal(h.path, "/a/b");
	assert_int_equal(http_parse_request(S("GET http://example.com HTTP/1.1\r\n\r\n"), &h), 0);
	assert_string_equal(h.path, "/");
	assert_int_equal(http_parse_request(S("OPTIONS * HTTP/1.1\r\n\r\n"), &h), 0);
	assert_string_equal(h.path, "*");
}

static void test_traceparent(void **st)
{
	struct http_req_head h;
	uint8_t t[16], s[8], f;
	const char r[] = "GET / HTTP/1.1\r\ntraceparent: "
			 "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n";

	assert_int_equal(http_parse_request(S(r), &h), 0);
	assert_true(h.has_traceparent);
	assert_int_equal(h.trace_id[0], 0x4b);
	assert_int_equal(h.trace_id[15], 0x36);
	assert_int_equal(h.parent_id[0], 0x00);
	assert_int_equal(h.parent_id[7], 0xb7);
	assert_int_equal(h.trace_flags, 1);
	/* all-zero ids, upper case, wrong length, version ff: invalid */
	assert_int_equal(http_parse_traceparent(
				 S("00-00000000000000000000000000000000-00f067aa0ba902b7-01"), t, s, &f),
			 -EINVAL);
	assert_int_equal(http_parse_traceparent(
				 S("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"), t, s, &f),
			 -EINVAL);
	assert_int_equal(http_parse_traceparent(
				 S("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0"), t, s, &f),
			 -EINVAL);
	assert_int_equal(http_parse_traceparent(
				 S("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), t, s, &f),
			 -EINVAL);
	assert_int_equal(http_parse_traceparent(
				 S("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-xyz"), t, s,
				 &f),
			 0);
	assert_int_equal(f, 0);
}

static void test_response(void **st)
{
	struct http_resp_head h;
	const char r[] = "HTTP/1.1 404 Not Found\r\nServer: nginx\r\nContent-Length: 153\r\n\r\n<html>";

	assert_int_equal(http_parse_response(S(r), &h), 0);
	assert_int_equal(h.status, 404);
	assert_int_equal(h.minor, 1);
	assert_true(h.complete);
	assert_int_equal(h.head_len, sizeof(r) - 1 - 6);
	assert_int_equal(h.content_length, 153);
	assert_int_equal(http_parse_response(S("HTTP/1.0 200\r\n\r\n"), &h), 0);
	assert_int_equal(h.status, 200);
	assert_int_equal(h.minor, 0);
	assert_int_equal(http_parse_response(S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"),
					     &h),
			 0);
	assert_true(h.chunked);
	assert_false(h.complete);
	assert_int_equal(http_parse_response(S("HTTP/1.1 20x OK\r\n\r\n"), &h), -EINVAL);
	assert_int_equal(http_parse_response(S("HTTP/1.1 099 X\r\n\r\n"), &h), -EINVAL);
	assert_int_equal(http_parse_response(S("HTTP/2 200\r\n\r\n"), &h), -EINVAL);
	assert_int_equal(http_parse_response(S("HTTP/1.1 2000 OK\r\n\r\n"), &h), -EINVAL);
}

static void test_bodyless(void **st)
{
	assert_true(http_resp_bodyless("HEAD", 200));
	assert_true(http_resp_bodyless("GET", 204));
	assert_true(http_resp_bodyless("GET", 304));
	assert_true(http_resp_bodyless("GET", 101));
	assert_false(http_resp_bodyless("GET", 200));
	assert_true(http_status_interim(100));
	assert_false(http_status_interim(101));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_basic),	     cmocka_unit_test(test_request_methods),
		cmocka_unit_test(test_request_not_http),     cmocka_unit_test(test_request_split_headers),
		cmocka_unit_test(test_request_absolute_form), cmocka_unit_test(test_traceparent),
		cmocka_unit_test(test_response),	     cmocka_unit_test(test_bodyless),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
