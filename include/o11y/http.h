/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* ABI of bpf/http.bpf.c: the HTTP events it sends and the per-connection state it keeps. */
#ifndef O11Y_HTTP_H
#define O11Y_HTTP_H

#include "o11y/common.h"

#define O11Y_HTTP_REQ_DATA 1024	 /* bytes of a request head captured (a power of two) */
#define O11Y_HTTP_RESP_DATA 512	 /* bytes of a response head captured (a power of two) */
#define O11Y_HTTP_SMALL_DATA 256 /* records for heads up to this size are this much smaller */

/* One TCP connection as the server sees it; addresses in network order, ports in host order. */
struct o11y_tuple {
	__u8 laddr[16]; /* local (server) address; IPv4 in the first 4 bytes */
	__u8 raddr[16]; /* remote (client) address */
	__u16 lport;
	__u16 rport;
	__u16 family; /* AF_INET or AF_INET6 */
	__u16 pad;
};
_Static_assert(sizeof(struct o11y_tuple) == 40, "o11y_tuple ABI");

/*
 * conn_id: the struct sock pointer (socket tracepoint path) or tgid << 32 | fd (syscall path).
 * REQ: data holds the first bytes the recv returned; prev_* close the connection's previous
 *      response (its last send and the bytes it sent), 0 when there was none.
 * RESP: data holds the first bytes of the send; len is what the send handed to the kernel.
 * CLOSE: prev_* as for REQ; no data.
 * A record is only as long as its data needs: offsetof(data) + 0, O11Y_HTTP_SMALL_DATA, or the
 * full size; data_len says how much of it is filled.
 */
struct o11y_http_event {
	struct o11y_ev_hdr hdr;
	__u64 conn_id;
	__u64 prev_end_ns;
	__u64 prev_resp_bytes;
	struct o11y_tuple tuple;
	__u32 len;	/* bytes returned by the recv / handed to the send */
	__u32 data_len; /* bytes of data captured */
	__u8 data[O11Y_HTTP_REQ_DATA];
};
_Static_assert(sizeof(struct o11y_http_event) == 24 + 24 + 40 + 8 + O11Y_HTTP_REQ_DATA,
	       "o11y_http_event ABI");

/* Per-connection state in the `conns` map, read by the agent to finish idle responses. */
struct o11y_http_conn {
	struct o11y_tuple tuple;
	__u64 req_ts;	    /* start of the latest request */
	__u64 last_send_ts; /* latest send since the latest response started */
	__u64 resp_bytes;   /* bytes sent since the latest response started */
	__u32 tgid;
	__u8 in_resp; /* a response started on this connection and may still be sending */
	/* not traced: not TCP/IP, filtered out by port, or its first bytes were not HTTP */
	__u8 ignored;
	__u8 pad[2];
};
_Static_assert(sizeof(struct o11y_http_conn) == 40 + 24 + 8, "o11y_http_conn ABI");

#endif
