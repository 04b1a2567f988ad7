/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTP/1.x server capture, shared by both attach mechanisms (socket tracepoints and syscall
 * tracepoints). The kernel does the least it can per syscall: it recognises the first bytes
 * of a request ("GET ", "POST"...) on a recv and of a status line ("HTTP/1.") on a send, stamps
 * them, and ships those heads to the agent, which parses them. Between heads it only keeps the
 * time and byte count of a response's later sends (a body written with more writes, sendfile).
 */
#ifndef O11Y_HTTP_BPF_H
#define O11Y_HTTP_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "core_fixes.bpf.h"
#include "maps.bpf.h"
#include "o11y/http.h"
#include "syscall.bpf.h"
#include "task_state.bpf.h"

#define HTTP_RB_SIZE (16 << 20)

/* request and response heads, consumed by the agent */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, HTTP_RB_SIZE);
} http_events SEC(".maps");

/* HTTP connections by conn_id; LRU so connections whose close we missed age out */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct o11y_http_conn);
} http_conns SEC(".maps");

/* --pid: the only processes traced, when cfg_filter_pids */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u8);
} pid_filter SEC(".maps");

/* --port: the only local ports traced, when cfg_filter_ports */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);
	__type(value, __u8);
} port_filter SEC(".maps");

/*
 * local ports something listens on (socket path): a recv on a socket whose local port is not
 * one of them is a client's and is not looked at. Seeded by the agent from every network
 * namespace's /proc/PID/net/tcp{,6}, kept current by inet_sock_set_state.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u16);
	__type(value, __u8);
} listen_ports SEC(".maps");

/* record which request each thread serves (bpf/task_state.bpf.h): page-cache metrics on */
const volatile __u8 cfg_thread_request = 1;
const volatile __u32 cfg_self_tgid = 0;
const volatile __u8 cfg_filter_pids = 0;
const volatile __u8 cfg_filter_ports = 0;
/* wake the agent only past this much unread data; it drains on a timer otherwise */
const volatile __u64 cfg_wake_bytes = HTTP_RB_SIZE / 4;

static __always_inline __u64 http_rb_flags(void)
{
	return bpf_ringbuf_query(&http_events, BPF_RB_AVAIL_DATA) > cfg_wake_bytes
		   ? BPF_RB_FORCE_WAKEUP
		   : BPF_RB_NO_WAKEUP;
}

/* First four bytes of a request line for the methods we trace (little-endian words). */
#define W4(a, b, c, d) ((__u32)(a) | (__u32)(b) << 8 | (__u32)(c) << 16 | (__u32)(d) << 24)

static __always_inline bool http_is_method(__u32 w)
{
	switch (w) {
	case W4('G', 'E', 'T', ' '):
	case W4('P', 'O', 'S', 'T'):
	case W4('P', 'U', 'T', ' '):
	case W4('H', 'E', 'A', 'D'):
	case W4('D', 'E', 'L', 'E'):
	case W4('P', 'A', 'T', 'C'):
	case W4('O', 'P', 'T', 'I'):
	case W4('C', 'O', 'N', 'N'):
	case W4('T', 'R', 'A', 'C'):
		return true;
	}
	return false;
}

/* "HTTP/1." */
static __always_inline bool http_is_status_line(const __u8 *d)
{
	return d[0] == 'H' && d[1] == 'T' && d[2] == 'T' && d[3] == 'P' && d[4] == '/' &&
	       d[5] == '1' && d[6] == '.';
}

static __always_inline void http_fill_hdr(struct o11y_ev_hdr *h, __u8 type, __u64 pid_tgid,
					  __u64 now)
{
	h->type = type;
	h->tgid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	h->ts_ns = now;
}

/* The current thread now serves the request of conn_id that started at req_ts. */
static __always_inline void http_thread_serves(__u64 conn_id, __u64 req_ts)
{
	struct o11y_task *tc;

	if (!cfg_thread_request)
		return; /* no page-cache attribution: nobody reads it */
	tc = bpf_task_storage_get(&task_state, bpf_get_current_task_btf(), 0,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (tc) {
		tc->conn_id = conn_id;
		tc->req_ts = req_ts;
	}
}

/* Reads the tuple of a socket once per connection; marks non-TCP/IP and filtered ones ignored. */
static __always_inline struct o11y_http_conn *http_conn_create(__u64 conn_id, struct sock *sk,
							       __u32 tgid)
{
	struct o11y_http_conn c = {};
	__u16 family;

	c.tgid = tgid;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	c.tuple.family = family;
	c.tuple.lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	c.tuple.rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == O11Y_AF_INET) {
		BPF_CORE_READ_INTO(&c.tuple.laddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO(&c.tuple.raddr, sk, __sk_common.skc_daddr);
	} else if (family == O11Y_AF_INET6) {
		BPF_CORE_READ_INTO(&c.tuple.laddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&c.tuple.raddr, sk, __sk_common.skc_v6_daddr);
	} else {
		c.ignored = 1;
	}
	if (cfg_filter_ports && !bpf_map_lookup_elem(&port_filter, &c.tuple.lport))
		c.ignored = 1;
	/* an LRU map never fails for lack of room; BPF_ANY replaces a stale entry */
	bpf_map_update_elem(&http_conns, &conn_id, &c, BPF_ANY);
	return bpf_map_lookup_elem(&http_conns, &conn_id);
}

#define HTTP_EV_HDR __builtin_offsetof(struct o11y_http_event, data)

/* Reserves a record with room for cap bytes of data and reads up to that much of ubuf in. */
static __always_inline struct o11y_http_event *http_reserve_read(const void *ubuf, long len,
								 const __u32 cap)
{
	struct o11y_http_event *ev;
	__u64 n = len;

	ev = bpf_ringbuf_reserve(&http_events, HTTP_EV_HDR + cap, 0);
	if (!ev) {
		count_error(O11Y_ERR_RINGBUF_FULL);
		return NULL;
	}
	if (n > cap)
		n = cap;
	barrier_var(n);
	if (n > cap)
		n = cap;
	if (bpf_probe_read_user(ev->data, n, ubuf)) {
		count_error(O11Y_ERR_READ_USER);
		bpf_ringbuf_discard(ev, BPF_RB_NO_WAKEUP);
		return NULL;
	}
	ev->data_len = n;
	return ev;
}

/*
 * A record only as large as the head it carries needs: most heads fit the small size, so the
 * ring buffer holds four times more of them than of full-size records.
 */
static __always_inline struct o11y_http_event *http_reserve_head(const void *ubuf, long len,
								 const __u32 cap)
{
	if (len <= O11Y_HTTP_SMALL_DATA)
		return http_reserve_read(ubuf, len, O11Y_HTTP_SMALL_DATA);
	return http_reserve_read(ubuf, len, cap);
}

/* A recv's first bytes in a record (one user read); NULL when they do not start a request. */
static __always_inline struct o11y_http_event *http_read_request(const void *ubuf, long ret)
{
	struct o11y_http_event *ev = http_reserve_head(ubuf, ret, O11Y_HTTP_REQ_DATA);

	if (ev && !http_is_method(*(__u32 *)ev->data)) {
		bpf_ringbuf_discard(ev, BPF_RB_NO_WAKEUP);
		return NULL;
	}
	return ev;
}

/* A server connection whose first bytes are not HTTP (TLS, a database protocol): later recvs
 * on it cost one lookup. */
static __always_inline void http_conn_ignore(__u64 conn_id)
{
	struct o11y_http_conn c = {.ignored = 1};

	bpf_map_update_elem(&http_conns, &conn_id, &c, BPF_NOEXIST);
}

static __always_inline struct sock *http_sock_of_fd(__u32 fd);

/*
 * A recv returned `ret` bytes at user address `ubuf` on connection conn_id. sk is the socket
 * when the caller has it (socket path); when NULL (syscall path) and the connection is new,
 * fd is resolved to its socket. A known HTTP connection costs one user read per recv; a new
 * one costs a 4-byte read first, and a second read once it is known to carry HTTP.
 */
static __always_inline void http_recv(__u64 conn_id, struct sock *sk, __u32 fd, const void *ubuf,
				      long ret, __u64 pid_tgid)
{
	struct o11y_http_event *ev;
	struct o11y_http_conn *c;
	__u32 tgid = pid_tgid >> 32, head;
	__u64 now;

	if (ret < 4 || !ubuf)
		return;
	c = bpf_map_lookup_elem(&http_conns, &conn_id);
	if (c) {
		if (c->ignored)
			return;
	} else {
		if (bpf_probe_read_user(&head, sizeof(head), ubuf)) {
			count_error(O11Y_ERR_READ_USER);
			return;
		}
		if (!http_is_method(head)) {
			/* only a socket can be remembered: the syscall path also sees files */
			if (sk && ret >= 8)
				http_conn_ignore(conn_id);
			return;
		}
		if (cfg_filter_pids && !bpf_map_lookup_elem(&pid_filter, &tgid))
			return;
		if (!sk)
			sk = http_sock_of_fd(fd);
		if (!sk)
			return;
		c = http_conn_create(conn_id, sk, tgid);
		if (!c || c->ignored)
			return;
	}
	ev = http_read_request(ubuf, ret);
	if (!ev)
		return;
	now = bpf_ktime_get_ns();
	http_fill_hdr(&ev->hdr, O11Y_EV_HTTP_REQ, pid_tgid, now);
	ev->conn_id = conn_id;
	ev->prev_end_ns = c->in_resp ? c->last_send_ts : 0;
	ev->prev_resp_bytes = c->in_resp ? c->resp_bytes : 0;
	ev->tuple = c->tuple;
	ev->len = ret;
	c->in_resp = 0;
	c->resp_bytes = 0;
	c->req_ts = now;
	c->tgid = tgid;
	http_thread_serves(conn_id, now);
	bpf_ringbuf_submit(ev, http_rb_flags());
}

/*
 * A send handed `ret` bytes to the kernel on connection c (looked up by the caller, which
 * returns early for the many sends that are not on an HTTP connection); ubuf is NULL when
 * there is no user buffer (sendfile).
 */
static __always_inline void http_send(struct o11y_http_conn *c, __u64 conn_id, const void *ubuf,
				      long ret, __u64 pid_tgid)
{
	struct o11y_http_event *ev;

	if (ret <= 0 || c->ignored || !c->req_ts)
		return;
	if (ubuf && ret >= 12) {
		ev = http_reserve_head(ubuf, ret, O11Y_HTTP_RESP_DATA);
		if (!ev)
			goto body;
		if (!http_is_status_line(ev->data)) {
			bpf_ringbuf_discard(ev, BPF_RB_NO_WAKEUP);
			goto body;
		}
		/* a new head also ends the previous response on this connection (pipelining) */
		ev->prev_end_ns = c->in_resp ? c->last_send_ts : 0;
		ev->prev_resp_bytes = c->in_resp ? c->resp_bytes : 0;
		c->last_send_ts = bpf_ktime_get_ns();
		c->in_resp = 1;
		c->resp_bytes = ret;
		http_thread_serves(conn_id, c->req_ts);
		http_fill_hdr(&ev->hdr, O11Y_EV_HTTP_RESP, pid_tgid, c->last_send_ts);
		ev->conn_id = conn_id;
		ev->tuple = c->tuple;
		ev->len = ret;
		bpf_ringbuf_submit(ev, http_rb_flags());
		return;
	}
body:
	/* a later part of the response: only its time and size matter */
	if (c->in_resp) {
		c->last_send_ts = bpf_ktime_get_ns();
		c->resp_bytes += ret;
	}
}

/* The connection is going away: finish its response, forget it. */
static __always_inline void http_close(__u64 conn_id, __u64 pid_tgid)
{
	struct o11y_http_event *ev;
	struct o11y_http_conn *c;

	c = bpf_map_lookup_elem(&http_conns, &conn_id);
	if (!c)
		return;
	if (!c->ignored) {
		ev = bpf_ringbuf_reserve(&http_events, HTTP_EV_HDR, 0);
		if (ev) {
			http_fill_hdr(&ev->hdr, O11Y_EV_HTTP_CLOSE, pid_tgid, bpf_ktime_get_ns());
			ev->hdr.tgid = c->tgid;
			ev->conn_id = conn_id;
			ev->prev_end_ns = c->in_resp ? c->last_send_ts : 0;
			ev->prev_resp_bytes = c->in_resp ? c->resp_bytes : 0;
			ev->tuple = c->tuple;
			ev->len = 0;
			ev->data_len = 0;
			bpf_ringbuf_submit(ev, http_rb_flags());
		} else {
			count_error(O11Y_ERR_RINGBUF_FULL);
		}
	}
	bpf_map_delete_elem(&http_conns, &conn_id);
}

/* Where the syscall's data is: a plain buffer, the first iovec, or a msghdr's first iovec. */
enum http_buf_kind { BUF_PLAIN = 0, BUF_IOV, BUF_MSG, BUF_NONE };

static __always_inline const void *http_user_buf(__u8 kind, __u64 arg)
{
	struct iovec iov;
	__u64 iovp;

	switch (kind) {
	case BUF_PLAIN:
		return (const void *)arg;
	case BUF_MSG:
		if (bpf_probe_read_user(
			&iovp, sizeof(iovp),
			(void *)(arg + __builtin_offsetof(struct user_msghdr, msg_iov))))
			goto fail;
		arg = iovp;
		/* fallthrough */
	case BUF_IOV:
		if (bpf_probe_read_user(&iov, sizeof(iov), (void *)arg))
			goto fail;
		return iov.iov_base;
	}
	return NULL;
fail:
	count_error(O11Y_ERR_READ_USER);
	return NULL;
}

/* fd -> struct sock of the current task, or NULL when fd is not a socket (syscall path only) */
static __always_inline struct sock *http_sock_of_fd(__u32 fd)
{
	struct file *file = o11y_fd_file(bpf_get_current_task_btf(), fd);
	struct socket *sock;
	umode_t mode;

	if (!file) {
		count_error(O11Y_ERR_READ_KERNEL);
		return NULL;
	}
	mode = BPF_CORE_READ(file, f_inode, i_mode);
	if ((mode & O11Y_S_IFMT) != O11Y_S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	return sock ? BPF_CORE_READ(sock, sk) : NULL;
}

#endif
