// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "k8s_meta.h"
#include "span_print.h"

struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len + n < o->size) {
		memcpy(o->buf + o->len, s, n);
		o->len += n;
		o->buf[o->len] = '\0';
	} else {
		o->len = o->size; /* truncated: nothing more fits */
	}
}

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(o, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t k;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		k = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		k = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		k = 4;
	else
		return 0;
	if (k > n)
		return 0;
	for (size_t i = 1; i < k; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return k;
}

/* A JSON string; invalid UTF-8 becomes U+FFFD so the output always parses. */
static void put_str(struct out *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	put(o, "\"", 1);
	while (n) {
		size_t k = utf8_len(p, n);

		if (k == 0) {
			put(o, "\\ufffd", 6);
			k = 1;
		} else if (*p == '"' || *p == '\\') {
			put(o, "\\", 1);
			put(o, (const char *)p, 1);
		} else if (*p < 0x20) {
			putf(o, "\\u%04x", *p);
		} else {
			put(o, (const char *)p, k);
		}
		p += k;
		n -= k;
	}
	put(o, "\"", 1);
}

static void put_kv_str(struct out *o, const char *k, const char *v, bool comma)
{
	if (comma)
		put(o, ",", 1);
	put_str(o, k);
	put(o, ":", 1);
	put_str(o, v);
}

static void put_res_attr(const char *key, const char *val, void *o)
{
	put_kv_str(o, key, val, true);
}

size_t span_format_json(const struct http_span *s, char *buf, size_t size)
{
	struct out o = {buf, size, 0};
	char name[SPAN_NAME_MAX + SPAN_ROUTE_MAX], tid[33], sid[17], pid[17], ver[8];

	buf[0] = '\0';
	span_name(s, name, sizeof(name));
	span_hex(s->trace_id, 16, tid);
	span_hex(s->span_id, 8, sid);
	snprintf(ver, sizeof(ver), "1.%u", s->proto_minor);
	put(&o, "{", 1);
	put_kv_str(&o, "name", name, false);
	put_kv_str(&o, "kind", "server", true);
	put_kv_str(&o, "trace_id", tid, true);
	put_kv_str(&o, "span_id", sid, true);
	if (s->has_parent) {
		span_hex(s->parent_span_id, 8, pid);
		put_kv_str(&o, "parent_span_id", pid, true);
	}
	putf(&o, ",\"start_time_unix_nano\":%" PRIu64 ",\"end_time_unix_nano\":%" PRIu64,
	     s->start_ns, s->end_ns);
	put_kv_str(&o, "status", s->status_code >= 500 ? "error" : "unset", true);
	put(&o, ",\"attributes\":{", 15);
	put_kv_str(&o, "http.request.method", s->method, false);
	put_kv_str(&o, "url.path", s->path, true);
	put_kv_str(&o, "url.scheme", "http", true);
	if (s->route[0])
		put_kv_str(&o, "http.route", s->route, true);
	putf(&o, ",\"http.response.status_code\":%u,\"server.port\":%u", s->status_code,
	     s->server_port);
	put_kv_str(&o, "client.address", s->client_addr, true);
	putf(&o, ",\"client.port\":%u", s->client_port);
	put_kv_str(&o, "network.protocol.version", ver, true);
	if (s->user_agent[0])
		put_kv_str(&o, "user_agent.original", s->user_agent, true);
	if (s->has_page_cache)
		putf(&o,
		     ",\"o11y.page_cache.hits\":%" PRIu64 ",\"o11y.page_cache.misses\":%" PRIu64,
		     s->pc_hits, s->pc_misses);
	put(&o, "},\"resource\":{", 14);
	put_kv_str(&o, "service.name", s->service_name, false);
	putf(&o, ",\"process.pid\":%u", s->pid);
	put_kv_str(&o, "process.executable.name", s->exe_name, true);
	k8s_resource_attrs(&s->k8s, put_res_attr, &o); /* container and pod */
	put(&o, "}}\n", 3);
	return o.len < size ? o.len : 0;
}

size_t span_format_file_json(const struct http_span *s, unsigned i, char *buf, size_t size)
{
	const struct span_file_read *f = &s->pc_files[i];
	struct out o = {buf, size, 0};
	char tid[33], sid[17], pid[17];

	buf[0] = '\0';
	span_hex(s->trace_id, 16, tid);
	span_hex(f->span_id, 8, sid);
	span_hex(s->span_id, 8, pid);
	put(&o, "{", 1);
	put_kv_str(&o, "name", "file.read", false);
	put_kv_str(&o, "kind", "internal", true);
	put_kv_str(&o, "trace_id", tid, true);
	put_kv_str(&o, "span_id", sid, true);
	put_kv_str(&o, "parent_span_id", pid, true);
	putf(&o, ",\"start_time_unix_nano\":%" PRIu64 ",\"end_time_unix_nano\":%" PRIu64,
	     f->start_ns, f->end_ns);
	put(&o, ",\"attributes\":{", 15);
	put_kv_str(&o, "file.path", f->path, false);
	if (f->path_truncated)
		putf(&o, ",\"o11y.file.path_truncated\":true");
	putf(&o,
	     ",\"o11y.file.bytes_read\":%" PRIu64 ",\"o11y.page_cache.hit\":%s"
	     ",\"o11y.page_cache.hits\":%" PRIu64 ",\"o11y.page_cache.misses\":%" PRIu64,
	     f->bytes, f->misses ? "false" : "true", f->hits, f->misses);
	put(&o, "},\"resource\":{", 14);
	put_kv_str(&o, "service.name", s->service_name, false);
	putf(&o, ",\"process.pid\":%u", s->pid);
	put(&o, "}}\n", 3);
	return o.len < size ? o.len : 0;
}

size_t span_format_text(const struct http_span *s, char *buf, size_t size)
{
	char when[32], tid[33], sid[17];
	time_t sec = (time_t)(s->start_ns / 1000000000ULL);
	struct tm tm;
	int n;

	gmtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	span_hex(s->trace_id, 16, tid);
	span_hex(s->span_id, 8, sid);
	n = snprintf(buf, size,
		     "%s.%06llu"
		     "Z %s[%u] %s %s%s%s -> %u %.3f ms HTTP/1.%u client=%s:%u "
		     "port=%u trace=%s span=%s\n",
		     when, (unsigned long long)(s->start_ns % 1000000000ULL / 1000),
		     s->service_name, s->pid, s->method, s->path, s->route[0] ? " route=" : "",
		     s->route, s->status_code, (double)(s->end_ns - s->start_ns) / 1e6,
		     s->proto_minor, s->client_addr, s->client_port, s->server_port, tid, sid);
	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

void span_print(FILE *f, const struct http_span *s, bool json)
{
	char buf[8192];
	size_t n =
	    json ? span_format_json(s, buf, sizeof(buf)) : span_format_text(s, buf, sizeof(buf));

	if (n)
		fwrite(buf, 1, n, f);
	for (unsigned i = 0; json && i < s->pc_nfiles && i < SPAN_FILES_MAX; i++) {
		n = span_format_file_json(s, i, buf, sizeof(buf));
		if (n)
			fwrite(buf, 1, n, f);
	}
	fflush(f);
}
