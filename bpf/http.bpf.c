// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * HTTP/1.x server spans. Two attach mechanisms feed the same logic (bpf/http.bpf.h); the
 * agent loads one of them:
 *  - sock: tp_btf sock:sock_recv_length / sock_send_length (Linux 6.5+) run only for socket
 *    I/O; the syscall's buffer comes from the task's saved user registers. Closes come from
 *    sock:inet_sock_set_state. Connections are keyed by their struct sock.
 *  - syscalls: syscall exit tracepoints (kernels without the socket tracepoints); arguments
 *    from the saved registers too; connections keyed by tgid and fd.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "http.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ---- sock path ------------------------------------------------------------------------- */

/* The user buffer of the syscall the current task is in, from its saved registers. */
static __always_inline const void *sock_syscall_buf(struct task_struct *task)
{
	struct pt_regs *regs = o11y_user_regs(task);

	if (!regs)
		return NULL;
	switch (regs->orig_ax) {
	case O11Y_NR_read:
	case O11Y_NR_write:
	case O11Y_NR_sendto:
	case O11Y_NR_recvfrom:
		return (const void *)regs->si;
	case O11Y_NR_readv:
	case O11Y_NR_writev:
		return http_user_buf(BUF_IOV, regs->si);
	case O11Y_NR_sendmsg:
	case O11Y_NR_recvmsg:
		return http_user_buf(BUF_MSG, regs->si);
	}
	return NULL; /* sendfile, splice, io_uring, kernel users: no user buffer to look at */
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(tp_btf_sock_recv_length, struct sock *sk, int ret, int flags)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u16 lport = sk->__sk_common.skc_num;
	const void *buf;

	if (ret < 4 || (flags & O11Y_MSG_PEEK) || (pid_tgid >> 32) == cfg_self_tgid)
		return 0;
	/* a client's socket (its local port is nobody's listening port): not a server's request */
	if (!bpf_map_lookup_elem(&listen_ports, &lport))
		return 0;
	buf = sock_syscall_buf(bpf_get_current_task_btf());
	if (buf)
		http_recv((__u64)sk, sk, 0, buf, ret, pid_tgid);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(tp_btf_sock_send_length, struct sock *sk, int ret, int flags)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct o11y_http_conn *c;
	__u64 id = (__u64)sk;

	if (ret <= 0 || (pid_tgid >> 32) == cfg_self_tgid)
		return 0;
	/* most sends on a socket are not HTTP: look up the connection before the registers */
	c = bpf_map_lookup_elem(&http_conns, &id);
	if (c)
		http_send(c, id, sock_syscall_buf(bpf_get_current_task_btf()), ret, pid_tgid);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tp_btf_inet_sock_set_state, const struct sock *sk, int oldstate, int newstate)
{
	if (newstate == TCP_LISTEN) {
		__u16 port = sk->__sk_common.skc_num;
		__u8 one = 1;

		if (bpf_map_update_elem(&listen_ports, &port, &one, BPF_ANY))
			count_error(O11Y_ERR_MAP_FULL);
		return 0;
	}
	/* our close() (FIN_WAIT1), after the peer's FIN (LAST_ACK), or a reset/abort (CLOSE) */
	if (newstate == TCP_FIN_WAIT1 || newstate == TCP_LAST_ACK || newstate == TCP_CLOSE)
		http_close((__u64)sk, bpf_get_current_pid_tgid());
	return 0;
}

/* ---- syscall path ---------------------------------------------------------------------- */

/*
 * Only exit tracepoints: a syscall's arguments are still in the task's saved user registers
 * when it returns, so no enter program (and no map between enter and exit) is needed. This
 * also sees a read that was already blocked when the agent attached.
 */
static __always_inline __u64 fd_conn_id(__u64 pid_tgid, __u32 fd)
{
	return (pid_tgid & 0xffffffff00000000ULL) | fd;
}

static __always_inline int sys_exit(long ret, __u8 kind, __u8 recv)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct o11y_http_conn *c;
	struct pt_regs *regs;
	__u64 id;
	__u32 fd;

	if (ret <= 0 || (pid_tgid >> 32) == cfg_self_tgid)
		return 0;
	regs = o11y_user_regs(bpf_get_current_task_btf());
	if (!regs)
		return 0;
	fd = regs->di;
	id = fd_conn_id(pid_tgid, fd);
	if (recv) {
		http_recv(id, NULL, fd, http_user_buf(kind, regs->si), ret, pid_tgid);
		return 0;
	}
	/* a write matters only on a connection that has carried a request */
	c = bpf_map_lookup_elem(&http_conns, &id);
	if (c)
		http_send(c, id, kind == BUF_NONE ? NULL : http_user_buf(kind, regs->si), ret,
			  pid_tgid);
	return 0;
}

#define SYS_EXIT(name, kind, recv)                                                                 \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                                 \
	int tp_sys_exit_##name(struct trace_event_raw_sys_exit *ctx)                               \
	{                                                                                          \
		return sys_exit(ctx->ret, kind, recv);                                             \
	}

SYS_EXIT(read, BUF_PLAIN, 1)
SYS_EXIT(readv, BUF_IOV, 1)
SYS_EXIT(recvfrom, BUF_PLAIN, 1)
SYS_EXIT(recvmsg, BUF_MSG, 1)
SYS_EXIT(write, BUF_PLAIN, 0)
SYS_EXIT(writev, BUF_IOV, 0)
SYS_EXIT(sendto, BUF_PLAIN, 0)
SYS_EXIT(sendmsg, BUF_MSG, 0)
SYS_EXIT(sendfile64, BUF_NONE, 0)

/* a new fd from accept or connect starts a new connection: forget what the number meant */
static __always_inline void sys_forget_fd(__u32 fd)
{
	__u64 id = fd_conn_id(bpf_get_current_pid_tgid(), fd);

	bpf_map_delete_elem(&http_conns, &id);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int tp_sys_exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	if (ctx->ret >= 0)
		sys_forget_fd(ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int tp_sys_exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	if (ctx->ret >= 0)
		sys_forget_fd(ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_connect")
int tp_sys_enter_connect(struct trace_event_raw_sys_enter *ctx)
{
	sys_forget_fd(ctx->args[0]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_close")
int tp_sys_enter_close(struct trace_event_raw_sys_enter *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	http_close(fd_conn_id(pid_tgid, ctx->args[0]), pid_tgid);
	return 0;
}
