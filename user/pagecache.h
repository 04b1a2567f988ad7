/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Page-cache hits and misses of file reads (bpf/pagecache.bpf.c). user/loader_pagecache.c
 * loads the programs and feeds this module; this module keeps the per-service totals (from
 * per-process kernel counters, which vanish with their process), writes the Prometheus
 * families, and turns a request's kernel record into span data. Plain C, tested without root.
 *
 * Threads: pagecache_tick() and pagecache_req_take() run in the main thread; the /metrics
 * source and pagecache_snapshot() in exporter threads, under the module's lock.
 */
#ifndef O11Y_PAGECACHE_USER_H
#define O11Y_PAGECACHE_USER_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "o11y/pagecache.h"
#include "prom.h"
#include "span.h"

#define PC_MAX_SERVICES 1024 /* services tracked; later ones are folded into "_other" */

/* hits = lookups - misses; kept monotonic for export (see pc_counts_hits). */
struct pc_counts {
	uint64_t lookups;
	uint64_t misses;
	uint64_t hits; /* exported hits: never decreases */
};

struct pc_service {
	char name[SPAN_NAME_MAX];
	struct pc_counts c;
};

/* ---- aggregation (plain data) ------------------------------------------------------------ */

struct pc_agg;

struct pc_agg *pc_agg_new(void);
void pc_agg_free(struct pc_agg *a);
/*
 * A process's cumulative kernel counters as read now, with its service name. What grew since
 * the last call goes to the service it has now (a process that exec'd into another program
 * changes service). A counter smaller than before is a momentary undercount (a thread exiting
 * while the counters were read): ignored, the growth beyond the largest value is counted.
 * Returns 0 or -ENOMEM.
 */
int pc_agg_proc(struct pc_agg *a, uint32_t tgid, const char *service, uint64_t lookups,
		uint64_t misses);
/* Is the process known (its service already resolved)? service gets its name when known. */
bool pc_agg_known(const struct pc_agg *a, uint32_t tgid, char *service, unsigned size);
/* The process is gone: forget it (its counts stay in its service); a new one may reuse the pid. */
void pc_agg_forget(struct pc_agg *a, uint32_t tgid);
/* Ends a round of pc_agg_proc() calls: forgets the processes not reported in it that are gone. */
void pc_agg_sweep(struct pc_agg *a, bool (*gone)(uint32_t tgid));
/* A copy of every service's totals, sorted by name; free() it. 0 or -ENOMEM. */
int pc_agg_services(struct pc_agg *a, struct pc_service **out, unsigned *n);

/*
 * hits for export from lookups and misses: lookups - misses, but never less than the last
 * value exported (a scrape in the middle of a read may see lookups before their misses).
 */
void pc_counts_update(struct pc_counts *c, uint64_t lookups, uint64_t misses);

/* node_page_cache_{hits,misses}_total and node_page_cache_service_{hits,misses}_total. */
int pc_prom_write(struct prom_buf *b, const struct pc_counts *host, const struct pc_service *svc,
		  unsigned n);

/*
 * A request's kernel record into the span's page-cache fields (user/span.h); paths[i] is the
 * path of r->files[i] (NULL or len 0 and no flags: unknown, exported as an empty, truncated path).
 */
void pc_req_to_span(const struct o11y_pc_req *r, const struct o11y_pc_path *paths,
		    struct http_span *s);

/*
 * Where exporters get the totals: the loader registers its snapshot function when it runs
 * (NULL when it stops). pc_source_snapshot returns -ESRCH when nothing is registered.
 */
typedef int (*pc_snapshot_fn)(struct pc_counts *host, struct pc_service **svc, unsigned *n);
void pc_set_source(pc_snapshot_fn fn, uint64_t start_unix_ns);
int pc_source_snapshot(struct pc_counts *host, struct pc_service **svc, unsigned *n,
		       uint64_t *start_unix_ns);

/* ---- the running module (user/loader_pagecache.c) ---------------------------------------- */

struct http_capture;

/*
 * Loads and attaches bpf/pagecache.bpf.c when enabled and the kernel has the filemap
 * tracepoints (else logs that the metrics are unavailable and returns 0). cap: the HTTP
 * capture whose threads' requests get their page-cache activity, or NULL. 0 or -errno.
 */
int pagecache_start(struct http_capture *cap);
void pagecache_stop(void);
/* Main thread, often: folds per-process counters into services at most once a second. */
void pagecache_tick(uint64_t now_mono_ns);
/*
 * Main thread: takes the kernel record of the request that started at req_ts and whose response
 * ended at end_mono, and the paths of its files (paths[O11Y_PC_REQ_FILES]); -ENOENT when the
 * request read no file through the page cache (or the metrics are off).
 * Between pagecache_reqs_begin() and pagecache_reqs_end() (one drain of the HTTP events), a
 * request that ended before the begin is served from a copy of every record read then with
 * one syscall, and the records taken are deleted together at the end; others are read and
 * deleted one by one.
 */
int pagecache_req_take(uint64_t conn_id, uint64_t req_ts, uint64_t end_mono,
		       struct o11y_pc_req *out, struct o11y_pc_path *paths);
void pagecache_reqs_begin(void);
void pagecache_reqs_end(void);
/* Host and per-service totals for the OTLP exporter; *svc freed by the caller. 0 or -errno. */
int pagecache_snapshot(struct pc_counts *host, struct pc_service **svc, unsigned *n);
/* The metrics are being collected. */
bool pagecache_running(void);

/* --[no-]page-cache-metrics */
extern bool pagecache_cfg_enabled;
extern const struct opt_table pagecache_opt_table;

#endif
