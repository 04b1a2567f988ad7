// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The agent's own counters and their exported names (o11y_ebpf_<name>_total). */
#include "stats.h"

uint64_t stats_counters[STAT__MAX];

const char *const stats_names[STAT__MAX] = {
	[STAT_EVENTS] = "events",
	[STAT_SPANS] = "spans",
	[STAT_HTTP_UNPARSED] = "http_unparsed",
	[STAT_HTTP_UNMATCHED_RESP] = "http_unmatched_resp",
	[STAT_HTTP_CONN_EVICTED] = "http_conn_evicted",
	[STAT_HTTP_REQ_DROPPED] = "http_req_dropped",
};

const char *const stats_help[STAT__MAX] = {
	[STAT_EVENTS] = "Ring-buffer events consumed.",
	[STAT_SPANS] = "HTTP server spans assembled.",
	[STAT_HTTP_UNPARSED] = "Request or response heads that did not parse as HTTP/1.x.",
	[STAT_HTTP_UNMATCHED_RESP] = "Responses with no request waiting on their connection.",
	[STAT_HTTP_CONN_EVICTED] = "Connections dropped from a full assembly table.",
	[STAT_HTTP_REQ_DROPPED] = "Requests dropped with no response (client went away).",
};
