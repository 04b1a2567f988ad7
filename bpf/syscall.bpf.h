/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The syscall the current task is in, read from its saved user registers, and its file
 * descriptors: shared by the objects that need a syscall's arguments from a tracepoint that
 * does not carry them (sock:sock_*_length, filemap:*, syscall exits).
 */
#ifndef O11Y_SYSCALL_BPF_H
#define O11Y_SYSCALL_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "core_fixes.bpf.h"

/* x86_64 syscall numbers (vmlinux/ is x86 only for now) */
enum {
	O11Y_NR_read = 0,
	O11Y_NR_write = 1,
	O11Y_NR_pread64 = 17,
	O11Y_NR_readv = 19,
	O11Y_NR_writev = 20,
	O11Y_NR_sendfile = 40,
	O11Y_NR_sendto = 44,
	O11Y_NR_recvfrom = 45,
	O11Y_NR_sendmsg = 46,
	O11Y_NR_recvmsg = 47,
	O11Y_NR_readahead = 187,
	O11Y_NR_fadvise64 = 221,
	O11Y_NR_splice = 275,
	O11Y_NR_preadv = 295,
	O11Y_NR_copy_file_range = 326,
	O11Y_NR_preadv2 = 327,
};

/*
 * The user registers saved when task entered the kernel (orig_ax: the syscall number; di, si,
 * dx...: its arguments), or NULL for a kernel thread, which has none. task must be trusted
 * (bpf_get_current_task_btf), so the fields are plain loads.
 */
static __always_inline struct pt_regs *o11y_user_regs(struct task_struct *task)
{
	if (task->flags & O11Y_PF_KTHREAD)
		return NULL;
	return (struct pt_regs *)bpf_task_pt_regs(task);
}

/* The struct file behind task's fd, or NULL (fd out of the table, closed, unreadable). */
static __always_inline struct file *o11y_fd_file(struct task_struct *task, __u64 fd)
{
	/* plain loads from the task (a BTF pointer); only the fd array is read with a helper */
	struct fdtable *fdt = task->files->fdt;
	struct file **fds, *file;

	if (!fdt || fd >= fdt->max_fds)
		return NULL;
	fds = fdt->fd;
	if (!fds || bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]))
		return NULL;
	return file;
}

#endif
