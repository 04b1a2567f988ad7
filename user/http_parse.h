/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* HTTP/1.x request and response heads, parsed from the bytes the kernel captured. Pure code. */
#ifndef O11Y_HTTP_PARSE_H
#define O11Y_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "span.h"

struct http_req_head {
	char method[SPAN_METHOD_MAX];
	char path[SPAN_PATH_MAX]; /* without query and fragment */
	char user_agent[SPAN_UA_MAX];
	uint8_t minor;		/* HTTP/1.<minor> */
	bool complete;		/* the whole head (up to the empty line) was in the bytes */
	size_t head_len;	/* bytes of the head when complete */
	int64_t content_length; /* -1: none given */
	bool chunked;
	bool has_traceparent;
	uint8_t trace_id[16], parent_id[8], trace_flags;
};

struct http_resp_head {
	uint16_t status;
	uint8_t minor;
	bool complete;
	size_t head_len;
	int64_t content_length; /* -1: none given */
	bool chunked;
};

/*
 * Parses a request head at buf. Returns 0 when the request line is whole and valid (headers
 * may be cut off: see ->complete), -EINVAL when the bytes are not an HTTP/1.x request line
 * (including one longer than the bytes captured).
 */
int http_parse_request(const char *buf, size_t len, struct http_req_head *out);
/* Same for a status line and the response headers. */
int http_parse_response(const char *buf, size_t len, struct http_resp_head *out);
/* W3C traceparent "00-<32 hex>-<16 hex>-<2 hex>"; 0 or -EINVAL (all-zero ids are invalid). */
int http_parse_traceparent(const char *v, size_t n, uint8_t trace_id[16], uint8_t span_id[8],
			   uint8_t *flags);
/* True for responses that never have a body (RFC 9112 6.3): HEAD, 1xx, 204, 304. */
bool http_resp_bodyless(const char *method, uint16_t status);
/* 100, 102, 103: an interim response; the final one follows. */
bool http_status_interim(uint16_t status);

#endif
