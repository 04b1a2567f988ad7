// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "http_parse.h"

static const char *const methods[] = {"GET",   "HEAD",	  "POST",    "PUT",   "DELETE",
				      "PATCH", "OPTIONS", "CONNECT", "TRACE", NULL};

/* Finds the end of the line starting at p: returns the index of '\n', or -1. */
static long line_end(const char *buf, size_t len, size_t p)
{
	const char *nl = memchr(buf + p, '\n', len - p);

	return nl ? nl - buf : -1;
}

static bool is_tchar_line(unsigned char c)
{
	return c >= 0x20 && c != 0x7f;
}

static void copy_trim(char *dst, size_t size, const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	if (n >= size)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* W3C: lower-case only */
}

static int parse_hex(const char *s, uint8_t *out, size_t nbytes)
{
	bool nonzero = false;

	for (size_t i = 0; i < nbytes; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
		nonzero |= out[i] != 0;
	}
	return nonzero ? 0 : -EINVAL;
}

int http_parse_traceparent(const char *v, size_t n, uint8_t trace_id[16], uint8_t span_id[8],
			   uint8_t *flags)
{
	uint8_t ver, fl;

	while (n && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r'))
		n--;
	/* version 00 is exactly 55 chars; later versions may append "-..." */
	if (n < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-' || (n > 55 && v[55] != '-'))
		return -EINVAL;
	if (parse_hex(v, &ver, 1) && !(v[0] == '0' && v[1] == '0'))
		return -EINVAL;
	if (ver == 0xff || (ver == 0 && n != 55))
		return -EINVAL;
	if (parse_hex(v + 3, trace_id, 16) || parse_hex(v + 36, span_id, 8))
		return -EINVAL;
	if (hexval(v[53]) < 0 || hexval(v[54]) < 0)
		return -EINVAL;
	fl = (uint8_t)(hexval(v[53]) << 4 | hexval(v[54]));
	*flags = fl;
	return 0;
}

static int64_t parse_len(const char *s, size_t n)
{
	int64_t v = 0;
	size_t i = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == n || s[i] < '0' || s[i] > '9')
		return -1;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static bool header_is(const char *line, size_t n, const char *name, size_t *val_off)
{
	size_t k = strlen(name);

	if (n <= k || line[k] != ':' || strncasecmp(line, name, k) != 0)
		return false;
	*val_off = k + 1;
	return true;
}

/*
 * Walks header lines from p. Calls back per header; returns the offset after the empty line,
 * or 0 when the bytes end first.
 */
typedef void (*header_fn)(void *out, const char *line, size_t n);

static size_t walk_headers(const char *buf, size_t len, size_t p, header_fn fn, void *out)
{
	while (p < len) {
		long e = line_end(buf, len, p);
		size_t n;

		if (e < 0)
			return 0;
		n = (size_t)e - p;
		if (n && buf[p + n - 1] == '\r')
			n--;
		if (n == 0)
			return (size_t)e + 1;
		fn(out, buf + p, n);
		p = (size_t)e + 1;
	}
	return 0;
}

static void req_header(void *o, const char *line, size_t n)
{
	struct http_req_head *h = o;
	size_t v;

	if (header_is(line, n, "user-agent", &v)) {
		copy_trim(h->user_agent, sizeof(h->user_agent), line + v, n - v);
	} else if (header_is(line, n, "content-length", &v)) {
		h->content_length = parse_len(line + v, n - v);
	} else if (header_is(line, n, "transfer-encoding", &v)) {
		h->chunked = memmem(line + v, n - v, "chunked", 7) != NULL;
	} else if (header_is(line, n, "traceparent", &v)) {
		h->has_traceparent = http_parse_traceparent(line + v, n - v, h->trace_id,
							    h->parent_id, &h->trace_flags) == 0;
	}
}

static void resp_header(void *o, const char *line, size_t n)
{
	struct http_resp_head *h = o;
	size_t v;

	if (header_is(line, n, "content-length", &v))
		h->content_length = parse_len(line + v, n - v);
	else if (header_is(line, n, "transfer-encoding", &v))
		h->chunked = memmem(line + v, n - v, "chunked", 7) != NULL;
}

/* "HTTP/1.x" at s; returns the minor version or -1 */
static int http_version(const char *s, size_t n)
{
	if (n < 8 || memcmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' || s[7] > '9')
		return -1;
	return s[7] - '0';
}

int http_parse_request(const char *buf, size_t len, struct http_req_head *out)
{
	const char *sp1, *sp2, *target, *end;
	size_t mlen, tlen, lend;
	long e;
	int minor, i;

	memset(out, 0, sizeof(*out));
	out->content_length = -1;
	e = line_end(buf, len, 0);
	if (e < 0)
		return -EINVAL; /* the request line is longer than what was captured */
	lend = (size_t)e;
	if (lend && buf[lend - 1] == '\r')
		lend--;
	sp1 = memchr(buf, ' ', lend);
	if (!sp1)
		return -EINVAL;
	mlen = (size_t)(sp1 - buf);
	for (i = 0; methods[i]; i++)
		if (strlen(methods[i]) == mlen && memcmp(buf, methods[i], mlen) == 0)
			break;
	if (!methods[i])
		return -EINVAL;
	target = sp1 + 1;
	sp2 = memchr(target, ' ', lend - (size_t)(target - buf));
	if (!sp2 || sp2 == target)
		return -EINVAL;
	minor = http_version(sp2 + 1, lend - (size_t)(sp2 + 1 - buf));
	if (minor < 0 || (size_t)(sp2 + 1 - buf) + 8 != lend)
		return -EINVAL;
	for (const char *p = target; p < sp2; p++)
		if (!is_tchar_line((unsigned char)*p))
			return -EINVAL;
	memcpy(out->method, buf, mlen);
	out->minor = (uint8_t)minor;

	/* absolute-form "http://host/path": keep the path */
	tlen = (size_t)(sp2 - target);
	if (tlen > 7 &&
	    (strncasecmp(target, "http://", 7) == 0 || strncasecmp(target, "https://", 8) == 0)) {
		const char *slash = memchr(target + 8, '/', tlen - 8);

		if (!slash) {
			target = "/";
			tlen = 1;
		} else {
			tlen -= (size_t)(slash - target);
			target = slash;
		}
	}
	end = target;
	while (end < target + tlen && *end != '?' && *end != '#')
		end++;
	tlen = (size_t)(end - target);
	if (tlen >= sizeof(out->path))
		tlen = sizeof(out->path) - 1;
	memcpy(out->path, target, tlen);

	out->head_len = walk_headers(buf, len, (size_t)e + 1, req_header, out);
	out->complete = out->head_len > 0;
	return 0;
}

int http_parse_response(const char *buf, size_t len, struct http_resp_head *out)
{
	size_t lend;
	long e;
	int minor;

	memset(out, 0, sizeof(*out));
	out->content_length = -1;
	minor = http_version(buf, len);
	if (minor < 0 || len < 12 || buf[8] != ' ')
		return -EINVAL;
	for (int i = 9; i < 12; i++)
		if (buf[i] < '0' || buf[i] > '9')
			return -EINVAL;
	if (len > 12 && buf[12] != ' ' && buf[12] != '\r' && buf[12] != '\n')
		return -EINVAL;
	out->minor = (uint8_t)minor;
	out->status = (uint16_t)((buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0'));
	if (out->status < 100 || out->status > 599)
		return -EINVAL;
	e = line_end(buf, len, 0);
	if (e < 0)
		return 0;
	lend = (size_t)e;
	out->head_len = walk_headers(buf, len, lend + 1, resp_header, out);
	out->complete = out->head_len > 0;
	return 0;
}

bool http_status_interim(uint16_t status)
{
	return status == 100 || status == 102 || status == 103;
}

bool http_resp_bodyless(const char *method, uint16_t status)
{
	return strcmp(method, "HEAD") == 0 || (status >= 100 && status < 200) || status == 204 ||
	       status == 304;
}
