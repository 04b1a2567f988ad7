// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "http_assemble.h"
#include "http_parse.h"
#include "o11y/http.h"
#include "proc.h"
#include "stats.h"

#define HASH_BITS 15
#define CHECK_EVERY_NS (50 * 1000000ULL)       /* poll the kernel state of an open response */
#define IDLE_KNOWN_LEN_NS (30 * 1000000000ULL) /* give up on a response whose body stalls */

struct asm_req {
	struct asm_req *next;
	uint64_t start_mono;
	uint32_t pid;
	uint16_t interim_status; /* a 1xx interim response was sent for it */
	struct http_req_head h;
};

/* A response being sent: its span lacks only the end. */
struct asm_open {
	struct http_span span;
	int64_t expected;   /* bytes of the whole response, -1 when unknown */
	uint64_t last_mono; /* latest send seen */
	uint64_t bytes;	    /* bytes sent so far */
	uint64_t checked_mono;
	uint64_t req_mono; /* the request's REQ event time: its page-cache record's key */
};

struct asm_conn {
	uint64_t id;
	struct asm_conn *hnext;
	struct asm_conn *lprev, *lnext; /* recency list, most recent first */
	struct asm_conn *oprev, *onext; /* connections with an open response */
	struct o11y_tuple tuple;
	struct asm_req *qh, *qt;
	unsigned qn;
	struct asm_open *open;
};

struct http_asm {
	http_span_fn emit;
	void *emit_ctx;
	http_conn_fn conn_fn;
	void *conn_ctx;
	http_proc_fn proc_fn;
	http_pc_fn pc_fn;
	void *pc_ctx;
	int64_t offset; /* wall - monotonic */
	bool fixed_offset;
	uint64_t rng[4];
	struct asm_conn *buckets[1u << HASH_BITS];
	struct asm_conn *lru_head, *lru_tail;
	struct asm_conn *open_head;
	unsigned nconns;
};

/* ---- ids ------------------------------------------------------------------------------- */

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256**, seeded from getrandom: fast and unpredictable enough for trace ids */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

static void rand_id(struct http_asm *a, uint8_t *id, unsigned n)
{
	do {
		for (unsigned i = 0; i < n; i += 8) {
			uint64_t r = rng_next(a->rng);

			memcpy(id + i, &r, n - i < 8 ? n - i : 8);
		}
	} while (!memcmp(id, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", n));
}

/* ---- connection table ------------------------------------------------------------------ */

static unsigned hash(uint64_t id)
{
	return (unsigned)((id * 0x9E3779B97F4A7C15ULL) >> (64 - HASH_BITS));
}

static struct asm_conn *conn_find(struct http_asm *a, uint64_t id)
{
	for (struct asm_conn *c = a->buckets[hash(id)]; c; c = c->hnext)
		if (c->id == id)
			return c;
	return NULL;
}

static void lru_unlink(struct http_asm *a, struct asm_conn *c)
{
	if (c->lprev)
		c->lprev->lnext = c->lnext;
	else
		a->lru_head = c->lnext;
	if (c->lnext)
		c->lnext->lprev = c->lprev;
	else
		a->lru_tail = c->lprev;
	c->lprev = c->lnext = NULL;
}

static void lru_push(struct http_asm *a, struct asm_conn *c)
{
	c->lnext = a->lru_head;
	c->lprev = NULL;
	if (a->lru_head)
		a->lru_head->lprev = c;
	a->lru_head = c;
	if (!a->lru_tail)
		a->lru_tail = c;
}

static void open_unlink(struct http_asm *a, struct asm_conn *c)
{
	if (c->oprev)
		c->oprev->onext = c->onext;
	else
		a->open_head = c->onext;
	if (c->onext)
		c->onext->oprev = c->oprev;
	c->oprev = c->onext = NULL;
}

static void wall_from_mono(const struct http_asm *a, uint64_t mono, uint64_t *wall)
{
	*wall = (uint64_t)((int64_t)mono + a->offset);
}

/* Ends the open response of c at end_mono (0: its latest known send) and emits the span. */
static void finish_open(struct http_asm *a, struct asm_conn *c, uint64_t end_mono, uint64_t bytes)
{
	struct asm_open *o = c->open;

	if (!o)
		return;
	if (!end_mono || end_mono < o->last_mono)
		end_mono = o->last_mono;
	if (bytes < o->bytes)
		bytes = o->bytes;
	wall_from_mono(a, end_mono, &o->span.end_ns);
	o->span.resp_bytes = bytes;
	if (a->pc_fn) {
		a->pc_fn(a->pc_ctx, c->id, o->req_mono, end_mono, &o->span);
		for (unsigned i = 0; i < o->span.pc_nfiles && i < SPAN_FILES_MAX; i++) {
			struct span_file_read *f = &o->span.pc_files[i];

			rand_id(a, f->span_id, 8);
			wall_from_mono(a, f->start_ns, &f->start_ns);
			wall_from_mono(a, f->end_ns, &f->end_ns);
		}
	}
	a->emit(&o->span, a->emit_ctx);
	open_unlink(a, c);
	c->open = NULL;
	free(o);
}

static void drop_queue(struct asm_conn *c)
{
	while (c->qh) {
		struct asm_req *r = c->qh;

		c->qh = r->next;
		free(r);
		stats_add(STAT_HTTP_REQ_DROPPED, 1);
	}
	c->qt = NULL;
	c->qn = 0;
}

static void conn_free(struct http_asm *a, struct asm_conn *c)
{
	struct asm_conn **pp = &a->buckets[hash(c->id)];

	while (*pp != c)
		pp = &(*pp)->hnext;
	*pp = c->hnext;
	lru_unlink(a, c);
	if (c->open) {
		open_unlink(a, c);
		free(c->open);
	}
	drop_queue(c);
	free(c);
	a->nconns--;
}

static struct asm_conn *conn_get(struct http_asm *a, uint64_t id, bool create)
{
	struct asm_conn *c = conn_find(a, id);

	if (c) {
		lru_unlink(a, c);
		lru_push(a, c);
		return c;
	}
	if (!create)
		return NULL;
	if (a->nconns >= HTTP_ASM_MAX_CONNS) {
		struct asm_conn *old = a->lru_tail;

		finish_open(a, old, 0, 0);
		conn_free(a, old);
		stats_add(STAT_HTTP_CONN_EVICTED, 1);
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->id = id;
	c->hnext = a->buckets[hash(id)];
	a->buckets[hash(id)] = c;
	lru_push(a, c);
	a->nconns++;
	return c;
}

/* ---- spans ----------------------------------------------------------------------------- */

static void format_addr(const struct o11y_tuple *t, char *buf, size_t size)
{
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (t->family == 10 /* AF_INET6 */ && memcmp(t->raddr, v4mapped, 12) != 0)
		inet_ntop(AF_INET6, t->raddr, buf, size);
	else
		inet_ntop(AF_INET, t->family == 10 ? t->raddr + 12 : t->raddr, buf, size);
}

static bool default_proc(uint32_t pid, char *service, char *exe, size_t size)
{
	const struct proc_info *p = proc_lookup(pid);

	if (!p)
		return false;
	span_strcpy(service, p->service_name, size);
	span_strcpy(exe, p->exe_name, size);
	return true;
}

/* Builds the span of request r answered with status; false when its process is not traced. */
static bool span_start(struct http_asm *a, struct http_span *s, const struct asm_conn *c,
		       const struct asm_req *r, uint16_t status)
{
	/* the file.read children are read only up to pc_nfiles: no need to clear 2.5 KB of them */
	memset(s, 0, offsetof(struct http_span, pc_files));
	if (!a->proc_fn(r->pid, s->service_name, s->exe_name, sizeof(s->service_name)))
		return false;
	if (r->h.has_traceparent) {
		memcpy(s->trace_id, r->h.trace_id, 16);
		memcpy(s->parent_span_id, r->h.parent_id, 8);
		s->has_parent = true;
		s->trace_flags = r->h.trace_flags;
	} else {
		rand_id(a, s->trace_id, 16);
		s->trace_flags = 1;
	}
	rand_id(a, s->span_id, 8);
	wall_from_mono(a, r->start_mono, &s->start_ns);
	s->pid = r->pid;
	s->status_code = status;
	s->proto_minor = r->h.minor;
	memcpy(s->method, r->h.method, sizeof(s->method));
	memcpy(s->path, r->h.path, sizeof(s->path));
	memcpy(s->user_agent, r->h.user_agent, sizeof(s->user_agent));
	format_addr(&c->tuple, s->client_addr, sizeof(s->client_addr));
	s->client_port = c->tuple.rport;
	s->server_port = c->tuple.lport;
	return true;
}

static struct asm_req *queue_pop(struct asm_conn *c)
{
	struct asm_req *r = c->qh;

	if (r) {
		c->qh = r->next;
		if (!c->qh)
			c->qt = NULL;
		c->qn--;
	}
	return r;
}

static void on_request(struct http_asm *a, const struct o11y_http_event *ev)
{
	struct asm_conn *c = conn_get(a, ev->conn_id, true);
	const char *d = (const char *)ev->data;
	size_t off = 0, len = ev->data_len;

	if (!c)
		return;
	c->tuple = ev->tuple;
	if (c->open)
		finish_open(a, c, ev->prev_end_ns, ev->prev_resp_bytes);
	/* one recv may carry several pipelined requests: take every whole one it shows */
	while (off < len) {
		struct asm_req *r = calloc(1, sizeof(*r));

		if (!r)
			return;
		if (http_parse_request(d + off, len - off, &r->h)) {
			if (off == 0)
				stats_add(STAT_HTTP_UNPARSED, 1);
			free(r);
			return;
		}
		r->start_mono = ev->hdr.ts_ns;
		r->pid = ev->hdr.tgid;
		if (c->qn >= HTTP_ASM_MAX_QUEUE) {
			struct asm_req *old = queue_pop(c);

			free(old);
			stats_add(STAT_HTTP_REQ_DROPPED, 1);
		}
		if (c->qt)
			c->qt->next = r;
		else
			c->qh = r;
		c->qt = r;
		c->qn++;
		if (!r->h.complete || r->h.chunked)
			return;
		off += r->h.head_len + (r->h.content_length > 0 ? (size_t)r->h.content_length : 0);
	}
}

/* Does a whole chunked body end in this captured send? (the last-chunk "0\r\n\r\n") */
static bool chunked_ends(const char *d, size_t len)
{
	return len >= 5 && memcmp(d + len - 5, "0\r\n\r\n", 5) == 0;
}

static void on_response(struct http_asm *a, const struct o11y_http_event *ev)
{
	struct asm_conn *c = conn_get(a, ev->conn_id, false);
	const char *d = (const char *)ev->data;
	size_t off = 0, len = ev->data_len;
	bool whole_send = ev->data_len == ev->len;

	if (!c) {
		stats_add(STAT_HTTP_UNMATCHED_RESP, 1);
		return;
	}
	if (c->open)
		finish_open(a, c, ev->prev_end_ns, ev->prev_resp_bytes);
	while (off < len) {
		struct http_resp_head rh;
		struct asm_req *r;
		struct asm_open *o;
		int64_t body, expected = -1;

		if (http_parse_response(d + off, len - off, &rh)) {
			if (off == 0)
				stats_add(STAT_HTTP_UNPARSED, 1);
			return;
		}
		r = c->qh;
		if (!r) {
			stats_add(STAT_HTTP_UNMATCHED_RESP, 1);
			return;
		}
		if (http_status_interim(rh.status)) {
			r->interim_status = rh.status;
			if (!rh.complete)
				return;
			off += rh.head_len;
			continue;
		}
		queue_pop(c);
		o = malloc(sizeof(*o)); /* span_start clears the span; the rest is set below */
		if (!o || !span_start(a, &o->span, c, r, rh.status)) {
			free(o);
			free(r);
			return;
		}
		o->req_mono = r->start_mono;
		if (http_resp_bodyless(r->h.method, rh.status))
			body = 0;
		else if (rh.chunked)
			body = -1;
		else
			body = rh.content_length;
		free(r);
		if (rh.complete && body >= 0)
			expected = (int64_t)rh.head_len + body;
		o->expected = expected;
		o->last_mono = ev->hdr.ts_ns;
		o->bytes = ev->len - off;
		o->checked_mono = ev->hdr.ts_ns;
		c->open = o;
		c->onext = a->open_head;
		if (a->open_head)
			a->open_head->oprev = c;
		a->open_head = c;
		if (expected >= 0 && (int64_t)o->bytes >= expected) {
			o->bytes = (uint64_t)expected;
			finish_open(a, c, ev->hdr.ts_ns, (uint64_t)expected);
			off += (size_t)expected;
			continue;
		}
		if (rh.chunked && whole_send && chunked_ends(d + off, len - off))
			finish_open(a, c, ev->hdr.ts_ns, ev->len - off);
		return;
	}
}

static void on_close(struct http_asm *a, const struct o11y_http_event *ev)
{
	struct asm_conn *c = conn_get(a, ev->conn_id, false);
	struct asm_req *r;

	if (!c)
		return;
	if (c->open)
		finish_open(a, c, ev->prev_end_ns, ev->prev_resp_bytes);
	/* a request answered only with an interim 1xx still got a response */
	while ((r = c->qh) && r->interim_status) {
		struct http_span s;

		queue_pop(c);
		if (span_start(a, &s, c, r, r->interim_status)) {
			wall_from_mono(a, ev->prev_end_ns ? ev->prev_end_ns : ev->hdr.ts_ns,
				       &s.end_ns);
			a->emit(&s, a->emit_ctx);
		}
		free(r);
	}
	conn_free(a, c); /* requests still queued: the client went away before an answer */
}

int http_asm_event(struct http_asm *a, const void *data, size_t size)
{
	const struct o11y_http_event *ev = data;

	if (size < offsetof(struct o11y_http_event, data) || ev->data_len > O11Y_HTTP_REQ_DATA ||
	    size < offsetof(struct o11y_http_event, data) + ev->data_len)
		return 0;
	switch (ev->hdr.type) {
	case O11Y_EV_HTTP_REQ:
		on_request(a, ev);
		break;
	case O11Y_EV_HTTP_RESP:
		on_response(a, ev);
		break;
	case O11Y_EV_HTTP_CLOSE:
		on_close(a, ev);
		break;
	}
	return 0;
}

static void sample_offset(struct http_asm *a)
{
	struct timespec m, w;

	if (a->fixed_offset)
		return;
	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_REALTIME, &w);
	a->offset = ((int64_t)w.tv_sec - m.tv_sec) * 1000000000LL + (w.tv_nsec - m.tv_nsec);
}

void http_asm_tick(struct http_asm *a, uint64_t now)
{
	struct asm_conn *c, *next;

	sample_offset(a);
	for (c = a->open_head; c; c = next) {
		struct asm_open *o = c->open;
		uint64_t last = 0, bytes = 0;

		next = c->onext;
		if (now < o->checked_mono + CHECK_EVERY_NS)
			continue;
		o->checked_mono = now;
		if (a->conn_fn(a->conn_ctx, c->id, &last, &bytes)) {
			finish_open(a, c, 0, 0); /* the kernel forgot it: it closed */
			continue;
		}
		if (last > o->last_mono) {
			o->last_mono = last;
			o->bytes = bytes;
		}
		if (o->expected >= 0 && o->bytes >= (uint64_t)o->expected)
			finish_open(a, c, 0, 0);
		else if (now >
			 o->last_mono + (o->expected >= 0 ? IDLE_KNOWN_LEN_NS : HTTP_ASM_IDLE_NS))
			finish_open(a, c, 0, 0);
	}
}

void http_asm_flush(struct http_asm *a)
{
	while (a->open_head)
		finish_open(a, a->open_head, 0, 0);
}

struct http_asm *http_asm_new(http_span_fn emit, void *emit_ctx, http_conn_fn conn, void *conn_ctx)
{
	struct http_asm *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->emit = emit;
	a->emit_ctx = emit_ctx;
	a->conn_fn = conn;
	a->conn_ctx = conn_ctx;
	a->proc_fn = default_proc;
	if (getrandom(a->rng, sizeof(a->rng), 0) != sizeof(a->rng)) {
		free(a);
		return NULL;
	}
	a->rng[0] |= 1;
	sample_offset(a);
	return a;
}

void http_asm_set_proc(struct http_asm *a, http_proc_fn fn)
{
	a->proc_fn = fn;
}

void http_asm_set_pagecache(struct http_asm *a, http_pc_fn fn, void *ctx)
{
	a->pc_fn = fn;
	a->pc_ctx = ctx;
}

void http_asm_set_clock_offset(struct http_asm *a, int64_t off)
{
	a->offset = off;
	a->fixed_offset = true;
}

unsigned http_asm_conns(const struct http_asm *a)
{
	return a->nconns;
}

void http_asm_free(struct http_asm *a)
{
	if (!a)
		return;
	while (a->lru_head)
		conn_free(a, a->lru_head);
	free(a);
}
