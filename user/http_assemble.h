/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Turns the HTTP capture's events into spans: requests queue per connection (pipelining), a
 * response head takes the oldest, and the span ends at the response's last send, known from
 * Content-Length, the connection's next head, its close, or the kernel's connection state.
 * Plain code: no libbpf; the kernel state comes through a callback, so tests drive it alone.
 */
#ifndef O11Y_HTTP_ASSEMBLE_H
#define O11Y_HTTP_ASSEMBLE_H

#include <stddef.h>
#include <stdint.h>

#include "span.h"

struct http_asm;

typedef void (*http_span_fn)(const struct http_span *s, void *ctx);
/* The kernel's last send time and bytes of a connection's current response; -ENOENT if gone. */
typedef int (*http_conn_fn)(void *ctx, uint64_t conn_id, uint64_t *last_send_ts,
			    uint64_t *resp_bytes);
/*
 * Page-cache data of a request (user/pagecache.h, pc_req_to_span): fills the span's pc_* fields,
 * file.read times in monotonic ns. req_ts: the request's REQ event ts_ns.
 */
/* The page-cache record of the request started at req_ts whose response ended at end_mono. */
typedef void (*http_pc_fn)(void *ctx, uint64_t conn_id, uint64_t req_ts, uint64_t end_mono,
			   struct http_span *s);
/* Resource of a process: false when the process is not to be traced (--exe-name). */
typedef bool (*http_proc_fn)(uint32_t pid, char *service, char *exe, size_t size);

#define HTTP_ASM_MAX_CONNS 16384 /* connections tracked at once; the least recent are evicted */
#define HTTP_ASM_MAX_QUEUE 64	 /* requests waiting for a response on one connection */
#define HTTP_ASM_IDLE_NS                                                                           \
	(500 * 1000000ULL) /* a response with no known length ends after this idle */

struct http_asm *http_asm_new(http_span_fn emit, void *emit_ctx, http_conn_fn conn, void *conn_ctx);
/* Overrides the resource lookup (tests); the default reads /proc through user/proc.h. */
void http_asm_set_proc(struct http_asm *a, http_proc_fn fn);
/* Asks fn for each span's page-cache data when the span ends (NULL: none). */
void http_asm_set_pagecache(struct http_asm *a, http_pc_fn fn, void *ctx);
/* Overrides the monotonic-to-wall-clock offset (tests); by default it is sampled each tick. */
void http_asm_set_clock_offset(struct http_asm *a, int64_t wall_minus_mono_ns);
/* One ring-buffer record. Returns 0 (records it cannot use are counted, not errors). */
int http_asm_event(struct http_asm *a, const void *data, size_t size);
/* Ends responses whose end is now known from the kernel state or from idleness. */
void http_asm_tick(struct http_asm *a, uint64_t now_mono_ns);
/* At exit: ends every response that has started; requests without one are dropped. */
void http_asm_flush(struct http_asm *a);
void http_asm_free(struct http_asm *a);
/* Connections tracked (tests, metrics). */
unsigned http_asm_conns(const struct http_asm *a);

#endif
