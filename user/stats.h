/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The agent's own counters, updated from any thread, exported as o11y_ebpf_* metrics. */
#ifndef O11Y_STATS_H
#define O11Y_STATS_H

#include <stdint.h>

enum stat_id {
	STAT_EVENTS = 0,	  /* ring-buffer events consumed */
	STAT_SPANS,		  /* spans assembled */
	STAT_HTTP_UNPARSED,	  /* request or response heads that did not parse as HTTP/1.x */
	STAT_HTTP_UNMATCHED_RESP, /* responses with no request waiting on their connection */
	STAT_HTTP_CONN_EVICTED,	  /* connections dropped from a full assembly table */
	STAT_HTTP_REQ_DROPPED,	  /* requests dropped with no response (client went away) */
	STAT__MAX,
};

extern uint64_t stats_counters[STAT__MAX];
/* Exported as o11y_ebpf_<name>_total; defined in user/stats.c, one entry per stat_id. */
extern const char *const stats_names[STAT__MAX];
extern const char *const stats_help[STAT__MAX];

static inline void stats_add(enum stat_id id, uint64_t n)
{
	__atomic_fetch_add(&stats_counters[id], n, __ATOMIC_RELAXED);
}

static inline uint64_t stats_get(enum stat_id id)
{
	return __atomic_load_n(&stats_counters[id], __ATOMIC_RELAXED);
}

#endif
