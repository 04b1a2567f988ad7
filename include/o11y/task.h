/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Per-thread state in the `task_state` task local storage, shared by the HTTP capture and the
 * page-cache programs (bpf/task_state.bpf.h): one storage lookup per file read gives the
 * page-cache program both its own state and the request the thread serves.
 */
#ifndef O11Y_TASK_H
#define O11Y_TASK_H

#include "o11y/common.h"

/* What one thread is doing to the page cache (bpf/pagecache.bpf.h has the rules). */
struct o11y_pc_task {
	__u64 lookups; /* pages the thread looked up since it started: read by the task iterator, */
	__u64 misses;  /* folded into its process's pc_tgid entry when it exits */
	__u64 mapping; /* file of the thread's latest read pass */
	__u64 idx;     /* its first page */
	__u64 last;    /* its last page counted */
	__u64 cr_mapping; /* readahead credit: pages added ahead of the thread's reads */
	__u64 cr_lo, cr_hi;
	__u64 flt_mapping; /* the latest fault lookup, counted as a hit until its page is added */
	__u64 flt_index;
	__u64 req_ts; /* the HTTP request its latest lookups were charged to, 0 none */
};
_Static_assert(sizeof(struct o11y_pc_task) == 88, "o11y_pc_task ABI");

struct o11y_task {
	/*
	 * The HTTP request the thread serves: set by bpf/http.bpf.h when the thread receives a
	 * request head or sends a response head (page-cache metrics on); the page-cache program
	 * charges the thread's lookups to it (struct o11y_pc_req_key). req_ts 0: none.
	 */
	__u64 conn_id;
	__u64 req_ts; /* the request's REQ event ts_ns (o11y_http_conn.req_ts) */
	struct o11y_pc_task pc;
};
_Static_assert(sizeof(struct o11y_task) == 16 + sizeof(struct o11y_pc_task), "o11y_task ABI");

#endif
