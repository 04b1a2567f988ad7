/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Page-cache lookups and misses of file reads, exactly, from the filemap tracepoints.
 *
 * - A read (read/pread/readv, sendfile, splice) ends each pass of its copy loop with
 *   mm_filemap_get_pages(mapping, index, last): the pages it is about to consume. When a pass
 *   consumes only part of the range (a full folio batch, a page still being read), the next
 *   pass starts inside the same range: those pages are counted once. So are the pages of a
 *   range read again from inside it (a sendfile to a full socket reads pages, sends none and
 *   reads them again): a task's consecutive overlapping ranges on one file are merged.
 *   Ranges are clamped to the file size.
 * - A page the reading task adds to the page cache (mm_filemap_add_to_page_cache, in the
 *   task's own context for sync reads and the readahead they trigger) is a miss:
 *   * inside the range of the task's read in progress: a miss of a page already counted;
 *   * beyond it (readahead ahead of the reader): kept as the task's readahead credit for that
 *     file, a window of pages; a later lookup of a page inside the window is a miss, not a
 *     hit (the read caused the I/O), and pages read ahead but never read count nothing.
 *   Pages added outside a read (write(), fallocate...) are not misses.
 * - An mmap fault that reaches filemap_fault (mm_filemap_fault) is one lookup, a hit unless
 *   the faulting task then adds that page. Pages mapped by fault-around (already cached) are
 *   not counted.
 * hits = lookups - misses. Only regular files on filesystems with a backing store count:
 * tmpfs, ramfs and shmem are left out; /proc, /sys, pipes and sockets never pass through here.
 *
 * Cost: mm_filemap_get_pages fires on every read of every process, so its path does one
 * task-storage lookup (the thread's state, its counts and the HTTP request it serves, all in
 * task_state) and one per-CPU array add, and touches no hash map. Per-process counts stay in
 * the thread's storage: the agent reads live threads with the pc_iter_threads task iterator,
 * and a thread that exits adds its counts to its process's pc_tgid entry.
 */
#ifndef O11Y_PAGECACHE_BPF_H
#define O11Y_PAGECACHE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "core_fixes.bpf.h"
#include "maps.bpf.h"
#include "o11y/http.h"
#include "o11y/pagecache.h"
#include "syscall.bpf.h"
#include "task_state.bpf.h"

#define PC_PAGE_SHIFT 12
#define PC_TMPFS_MAGIC 0x01021994
#define PC_RAMFS_MAGIC 0x858458f6
#define PC_S_IFREG 0100000

/* host-wide lookups and misses, per CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct o11y_pc_count);
} pc_host SEC(".maps");

/*
 * per process (tgid): the counts of its threads that exited (the agent adds the live ones from
 * the task iterator, and deletes the entries of processes that are gone)
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct o11y_pc_tgid);
} pc_tgid SEC(".maps");

/*
 * per HTTP request: counts and the files read; the agent takes an entry when the span ends and
 * deletes the few whose span never ends once they have been idle for a while (a plain hash: an
 * LRU hash costs ~120 ns more per request to create an entry)
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct o11y_pc_req_key);
	__type(value, struct o11y_pc_req);
} pc_reqs SEC(".maps");

/* an all-zero request value to create pc_reqs entries from (never written) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct o11y_pc_req);
} pc_zero SEC(".maps");

/* paths of the files requests read, by fingerprint (struct o11y_pc_path); resolved once each */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct o11y_pc_path);
} pc_paths SEC(".maps");

/*
 * scratch of a path walk: the components' names as found (leaf first), and the buffer the path
 * is built in backwards: written below PATH_MAX, read as PATH_MAX
 */
struct pc_path_buf {
	__u64 name[O11Y_PC_PATH_DEPTH];
	__u32 len[O11Y_PC_PATH_DEPTH];
	char b[2 * O11Y_PC_PATH_MAX];
	struct o11y_pc_path out;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pc_path_buf);
} pc_path_buf SEC(".maps");

/*
 * Kernel structures are read with plain loads from typed (BTF) pointers: the tp_btf object
 * (bpf/pagecache.bpf.c, the filemap tracepoints of Linux 6.10+). The kprobe object for older
 * kernels (bpf/pagecache_kp.bpf.c, Linux 5.11+) defines PC_PROBE_READ: its pointers come from
 * kprobe arguments, untyped, so every field is read with bpf_probe_read_kernel (slower; the
 * logic is the same).
 * PC_CAST: a kernel pointer as a read-only typed pointer (bpf_rdonly_cast, Linux 6.2+).
 */
#ifdef PC_PROBE_READ
#define PC_RD1(p, a) BPF_CORE_READ(p, a)
#define PC_RD2(p, a, b) BPF_CORE_READ(p, a, b)
#define PC_CAST(type, p) ((type *)(p))
#else
#define PC_RD1(p, a) ((p)->a)
#define PC_RD2(p, a, b) ((p)->a->b)
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
#define PC_CAST(type, p) ((type *)bpf_rdonly_cast((const void *)(p), bpf_core_type_id_kernel(type)))
#endif

/*
 * pc_reqs entries ever created, read by the agent through the mapped .bss (no syscall): when
 * every one has been taken, a span that ends needs no lookup.
 */
__u64 pc_reqs_created = 0;

const volatile __u8 cfg_pc_requests = 1; /* attribute to HTTP requests (the HTTP capture runs) */

/* A regular file whose pages live in the page cache in front of a backing store. */
static __always_inline bool pc_file_wanted(struct inode *inode)
{
	unsigned long magic;

	if (!inode || (PC_RD1(inode, i_mode) & O11Y_S_IFMT) != PC_S_IFREG)
		return false;
	magic = PC_RD2(inode, i_sb, s_magic);
	return magic != PC_TMPFS_MAGIC && magic != PC_RAMFS_MAGIC;
}

/* Is the current task reading when it adds a page? (and not writing, truncating...) */
static __always_inline bool pc_read_context(struct task_struct *task, struct o11y_pc_task *t,
					    __u64 mapping)
{
	struct pt_regs *regs = o11y_user_regs(task);

	if (!regs)
		return true; /* loop devices, nfsd: kernel threads add pages only to read them */
	if (t->flt_mapping == mapping)
		return true; /* a fault on this file is in progress */
	/* the syscalls during which a page added to the cache is a read's */
	switch (regs->orig_ax) {
	case O11Y_NR_read:
	case O11Y_NR_pread64:
	case O11Y_NR_readv:
	case O11Y_NR_sendfile:
	case O11Y_NR_readahead:
	case O11Y_NR_fadvise64:
	case O11Y_NR_splice:
	case O11Y_NR_preadv:
	case O11Y_NR_copy_file_range:
	case O11Y_NR_preadv2:
		return true;
	}
	return false;
}

/* ---- per-request files: path from the dentries ----------------------------------------- */

/*
 * The struct file the current read syscall reads, when its fd argument is known and the file
 * is the one whose pages are looked up: it carries the mount, for an absolute path.
 */
static __always_inline struct file *pc_syscall_file(struct task_struct *task, __u64 mapping)
{
	struct pt_regs *regs = o11y_user_regs(task);
	struct file *file;
	__u64 fd;

	if (!regs)
		return NULL;
	switch (regs->orig_ax) {
	case O11Y_NR_read:
	case O11Y_NR_pread64:
	case O11Y_NR_readv:
	case O11Y_NR_splice:
	case O11Y_NR_preadv:
	case O11Y_NR_copy_file_range:
	case O11Y_NR_preadv2:
		fd = regs->di;
		break;
	case O11Y_NR_sendfile:
		fd = regs->si;
		break;
	default:
		return NULL;
	}
	file = o11y_fd_file(task, fd);
	if (!file)
		return NULL;
	file = PC_CAST(struct file, file);
	if ((__u64)PC_RD1(file, f_mapping) != mapping)
		return NULL;
	return file;
}

static __always_inline __u64 pc_mix(__u64 h, __u64 v)
{
	h ^= v;
	h *= 0xff51afd7ed558ccdULL;
	return h ^ (h >> 33);
}

/* pb->name[] marks: no component at this step (a mount crossing), and the end of the path */
#define PC_NAME_NONE 0
#define PC_NAME_END 1

/* Copying a new path's names, leaf first, into the end of pb->b: one bpf_loop step each. */
struct pc_copy {
	struct pc_path_buf *pb;
	int p; /* the path so far starts at pb->b[p] */
};

static long pc_copy_step(__u32 i, void *ctx)
{
	struct pc_copy *c = ctx;
	struct pc_path_buf *pb = c->pb;
	__u64 name;
	__u32 len;
	int off;

	if (i >= O11Y_PC_PATH_DEPTH)
		return 1;
	name = pb->name[i];
	if (name == PC_NAME_END)
		return 1;
	if (name == PC_NAME_NONE)
		return 0;
	len = pb->len[i] & 0xff;
	off = c->p - (int)len - 1;
	if (off < 0) {
		pb->out.flags |= O11Y_PC_PATH_TRUNCATED;
		return 1;
	}
	off &= O11Y_PC_PATH_MAX - 1;
	if (bpf_probe_read_kernel(&pb->b[off + 1], len, (void *)name)) {
		count_error(O11Y_ERR_READ_KERNEL);
		pb->out.flags |= O11Y_PC_PATH_TRUNCATED;
		return 1;
	}
	pb->b[off] = '/';
	c->p = off;
	return 0;
}

/*
 * The path of the file whose pages a request reads, as a key of pc_paths (0: none): through its
 * mount when the read's struct file is known, else from the inode's first dentry (relative to
 * its filesystem, marked NO_MOUNT). The walk up the dentries is plain loads; only a path not
 * seen before copies its names (one read per component) and is added to pc_paths. At most
 * O11Y_PC_PATH_DEPTH components and O11Y_PC_PATH_MAX - 1 bytes: the leading part is dropped
 * and the path marked TRUNCATED.
 */
static __always_inline __u64 pc_file_path(struct task_struct *task, struct inode *inode,
					  __u64 mapping)
{
	struct dentry *d, *parent, *mnt_root = NULL;
	struct mount *m = NULL, *mp;
	struct pc_copy c;
	struct pc_path_buf *pb;
	struct file *file;
	__u32 zero = 0;
	__u64 h, id;
	int i;

	pb = bpf_map_lookup_elem(&pc_path_buf, &zero);
	if (!pb)
		return 0;
	pb->out.flags = O11Y_PC_PATH_TRUNCATED; /* cleared when the walk reaches the root */
	file = pc_syscall_file(task, mapping);
	if (file) {
		struct vfsmount *vm = PC_RD1(file, f_path.mnt);

		d = PC_RD1(file, f_path.dentry);
		m = PC_CAST(struct mount, (void *)vm - bpf_core_field_offset(struct mount, mnt));
		mnt_root = PC_RD1(vm, mnt_root);
	} else {
		struct hlist_node *first = PC_RD1(inode, i_dentry.first);

		if (!first)
			return 0;
		d = PC_CAST(struct dentry,
			    (void *)first - bpf_core_field_offset(struct dentry, d_u.d_alias));
		pb->out.flags |= O11Y_PC_PATH_NO_MOUNT;
	}
	h = pc_mix(0xcbf29ce484222325ULL ^ pb->out.flags, PC_RD1(inode, i_ino));
	for (i = 0; i < O11Y_PC_PATH_DEPTH; i++) {
		pb->name[i] = PC_NAME_END;
		if (m && d == mnt_root) {
			/* the root of a mount: go on from where it is mounted */
			mp = PC_RD1(m, mnt_parent);
			if (!mp || mp == m) {
				pb->out.flags &= ~O11Y_PC_PATH_TRUNCATED;
				break;
			}
			h = pc_mix(h, (__u64)PC_RD1(m, mnt_id) << 32 | 0xffffffffULL);
			d = PC_RD1(m, mnt_mountpoint);
			m = mp;
			mnt_root = PC_RD1(mp, mnt.mnt_root);
			if (d == mnt_root) {
				pb->name[i] = PC_NAME_NONE; /* mounted on its parent's root */
				continue;
			}
		}
		parent = PC_RD1(d, d_parent);
		if (!parent || parent == d) {
			pb->out.flags &= ~O11Y_PC_PATH_TRUNCATED;
			break;
		}
		h = pc_mix(h, PC_RD1(d, d_name.hash_len));
		pb->name[i] = (__u64)PC_RD1(d, d_name.name);
		pb->len[i] = PC_RD1(d, d_name.len);
		d = parent;
	}
	id = h ? h : 1;
	if (bpf_map_lookup_elem(&pc_paths, &id))
		return id;

	/* a path not seen before: copy its names and keep it */
	c.pb = pb;
	c.p = O11Y_PC_PATH_MAX - 1;
	pb->b[O11Y_PC_PATH_MAX - 1] = 0;
	bpf_loop(O11Y_PC_PATH_DEPTH, pc_copy_step, &c, 0);
	i = c.p;
	if (i >= O11Y_PC_PATH_MAX - 1) {
		/* the root itself */
		i = O11Y_PC_PATH_MAX - 2;
		pb->b[i] = '/';
	}
	i &= O11Y_PC_PATH_MAX - 1;
	bpf_probe_read_kernel(pb->out.path, O11Y_PC_PATH_MAX, &pb->b[i]);
	pb->out.len = O11Y_PC_PATH_MAX - 1 - i;
	bpf_map_update_elem(&pc_paths, &id, &pb->out, BPF_ANY);
	return id;
}

/* ---- accounting ------------------------------------------------------------------------ */

/* Adds to the HTTP request the current thread serves (s->req_ts), and to the file within it. */
static __always_inline void pc_account_request(struct task_struct *task, struct o11y_task *s,
					       struct inode *inode, __u64 mapping, __u64 lookups,
					       __u64 misses, __u64 bytes)
{
	struct o11y_pc_req_key key;
	struct o11y_pc_req *r, *z;
	struct o11y_pc_file *f = NULL;
	__u32 zero = 0, i, n;

	/* the agent's own threads never serve a request: the HTTP capture skips them */
	key.conn_id = s->conn_id;
	key.req_ts = s->req_ts;
	s->pc.req_ts = s->req_ts;
	r = bpf_map_lookup_elem(&pc_reqs, &key);
	if (!r) {
		z = bpf_map_lookup_elem(&pc_zero, &zero);
		if (!z)
			return;
		if (bpf_map_update_elem(&pc_reqs, &key, z, BPF_NOEXIST) == 0)
			__sync_fetch_and_add(&pc_reqs_created, 1);
		r = bpf_map_lookup_elem(&pc_reqs, &key);
		if (!r) {
			count_error(O11Y_ERR_MAP_FULL);
			return;
		}
	}
	__sync_fetch_and_add(&r->lookups, lookups);
	__sync_fetch_and_add(&r->misses, misses);
	/* the file's entry, or the first free one (indexed by the loop counter: Linux 6.1's
	 * verifier loses the bounds of a computed index here) */
	n = r->nfiles;
	for (i = 0; i < O11Y_PC_REQ_FILES; i++) {
		if (i >= n || r->files[i].mapping == mapping) {
			f = &r->files[i];
			break;
		}
	}
	if (!f) {
		r->files_dropped = 1;
		return;
	}
	if (i >= n) {
		r->nfiles = i + 1;
		f->mapping = mapping;
		f->ino = PC_RD1(inode, i_ino);
		f->dev = PC_RD2(inode, i_sb, s_dev);
		f->path_id = pc_file_path(task, inode, mapping);
		f->first_ns = bpf_ktime_get_ns();
		f->last_ns = f->first_ns;
	} else {
		f->last_ns = bpf_ktime_get_ns();
	}
	f->bytes += bytes;
	f->lookups += lookups;
	f->misses += misses;
}

/*
 * Adds lookups and misses to the host, the current thread (hence its process) and the HTTP
 * request it serves. Only the thread itself writes its counts, so plain adds are exact.
 */
static __always_inline void pc_account(struct task_struct *task, struct o11y_task *s,
				       struct inode *inode, __u64 mapping, __u64 lookups,
				       __u64 misses, __u64 bytes)
{
	struct o11y_pc_count *h;
	__u32 zero = 0;

	h = bpf_map_lookup_elem(&pc_host, &zero);
	if (h) {
		h->lookups += lookups;
		h->misses += misses;
	}
	s->pc.lookups += lookups;
	s->pc.misses += misses;
	if (cfg_pc_requests && s->req_ts)
		pc_account_request(task, s, inode, mapping, lookups, misses, bytes);
}

static __always_inline struct o11y_task *pc_task_get(struct task_struct *task)
{
	return bpf_task_storage_get(&task_state, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
}

/* mm_filemap_get_pages: a read pass is about to consume pages index..last of mapping. */
static __always_inline void pc_get_pages(struct address_space *mapping, __u64 index, __u64 last)
{
	struct task_struct *task;
	struct inode *inode = PC_RD1(mapping, host);
	__u64 m = (__u64)mapping, first, n, misses = 0, isize, eof, bytes;
	struct o11y_pc_task *t;
	struct o11y_task *s;

	if (!pc_file_wanted(inode))
		return;
	isize = PC_RD1(inode, i_size);
	if (!isize)
		return;
	eof = (isize - 1) >> PC_PAGE_SHIFT;
	if (index > eof)
		return;
	if (last > eof)
		last = eof;
	task = bpf_get_current_task_btf();
	s = pc_task_get(task);
	if (!s)
		return;
	t = &s->pc;
	first = index;
	/*
	 * The same read's next pass, or a retry of part of the range (sendfile to a full socket
	 * reads pages, sends some or none, and reads the rest again): counted already. The
	 * merged range keeps its start, so a retry from a page before the latest pass's start
	 * (a pass that took only the range's last page, then a partial send) is still inside.
	 * A range read again is a retry only within one HTTP request: a thread serving the next
	 * request that reads the same file again looks it up again.
	 */
	if (t->mapping == m && index >= t->idx && index <= t->last &&
	    !(t->req_ts && s->req_ts != t->req_ts)) {
		first = t->last + 1;
		if (last < t->last)
			last = t->last;
	} else {
		t->idx = index;
	}
	if (first <= last && t->cr_mapping == m && t->cr_lo <= first && first < t->cr_hi) {
		/*
		 * The pass starts on pages this task just added (a sync read): it consumes at
		 * most up to the end of them now; pages after them are counted by the next pass,
		 * once known cached or added.
		 */
		if (last >= t->cr_hi)
			last = t->cr_hi - 1;
		misses = last - first + 1;
		t->cr_lo = last + 1;
	} else if (first <= last && t->cr_mapping == m && t->cr_lo < t->cr_hi) {
		__u64 lo = first > t->cr_lo ? first : t->cr_lo;
		__u64 hi = last + 1 < t->cr_hi ? last + 1 : t->cr_hi;

		if (lo < hi) {
			misses = hi - lo;
			t->cr_lo = hi;
		}
	}
	t->mapping = m;
	t->last = last;
	if (first > last)
		return;
	n = last - first + 1;
	bytes = ((last + 1) << PC_PAGE_SHIFT) - (first << PC_PAGE_SHIFT);
	if ((last + 1) << PC_PAGE_SHIFT > isize)
		bytes -= ((last + 1) << PC_PAGE_SHIFT) - isize;
	pc_account(task, s, inode, m, n, misses, bytes);
}

/* mm_filemap_add_to_page_cache: the current task inserted nr pages at index of mapping. */
static __always_inline void pc_added(struct address_space *mapping, __u64 index, __u64 nr)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 m = (__u64)mapping, end = index + nr, lo, hi, misses = 0;
	struct o11y_pc_task *t;
	struct o11y_task *s;
	struct inode *inode;

	if (!mapping)
		return;
	inode = PC_RD1(mapping, host);
	if (!pc_file_wanted(inode))
		return;
	s = pc_task_get(task);
	if (!s)
		return;
	t = &s->pc;
	if (!pc_read_context(task, t, m))
		return;
	if (t->flt_mapping == m && index <= t->flt_index && t->flt_index < end) {
		/* the fault's page was not cached: its hit was a miss */
		t->flt_mapping = 0;
		pc_account(task, s, inode, m, 0, 1, 0);
	}
	if (t->mapping == m && index <= t->last && end > t->idx) {
		/* pages of the read pass in progress, already counted as lookups */
		lo = index > t->idx ? index : t->idx;
		hi = end < t->last + 1 ? end : t->last + 1;
		misses = hi - lo;
		pc_account(task, s, inode, m, 0, misses, 0);
		if (index >= lo && end <= hi)
			return;
		if (end <= hi) /* only pages before the pass: not looked up by it */
			end = lo;
		else
			index = hi;
	}
	/* ahead of the reader: credit, merged with the window when it touches it */
	if (t->cr_mapping == m && t->cr_lo < t->cr_hi && index <= t->cr_hi && end >= t->cr_lo) {
		if (index < t->cr_lo)
			t->cr_lo = index;
		if (end > t->cr_hi)
			t->cr_hi = end;
	} else {
		t->cr_mapping = m;
		t->cr_lo = index;
		t->cr_hi = end;
	}
}

/* mm_filemap_fault: a fault looks up one page of a mapped file. */
static __always_inline void pc_fault(struct address_space *mapping, __u64 index)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct inode *inode = PC_RD1(mapping, host);
	__u64 m = (__u64)mapping;
	struct o11y_pc_task *t;
	struct o11y_task *s;

	if (!pc_file_wanted(inode))
		return;
	s = pc_task_get(task);
	if (!s)
		return;
	t = &s->pc;
	if (t->cr_mapping == m && t->cr_lo <= index && index < t->cr_hi) {
		t->flt_mapping = 0;
		pc_account(task, s, inode, m, 1, 1, 1 << PC_PAGE_SHIFT);
		return;
	}
	t->flt_mapping = m;
	t->flt_index = index;
	pc_account(task, s, inode, m, 1, 0, 1 << PC_PAGE_SHIFT);
}

/*
 * sched_process_exit, in the exiting thread: its counts go to its process's pc_tgid entry
 * (with the process's name, for a process gone before the agent resolves it) and leave its
 * storage, so the task iterator cannot count them again.
 */
static __always_inline void pc_thread_exit(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct o11y_pc_tgid *p;
	struct o11y_task *s;

	s = bpf_task_storage_get(&task_state, task, 0, 0);
	if (!s || (!s->pc.lookups && !s->pc.misses))
		return;
	p = bpf_map_lookup_elem(&pc_tgid, &tgid);
	if (!p) {
		struct o11y_pc_tgid v = {};

		BPF_CORE_READ_STR_INTO(&v.comm, task, group_leader, comm);
		/* EEXIST: another thread of the process created it meanwhile */
		bpf_map_update_elem(&pc_tgid, &tgid, &v, BPF_NOEXIST);
		p = bpf_map_lookup_elem(&pc_tgid, &tgid);
		if (!p) {
			count_error(O11Y_ERR_MAP_FULL);
			return;
		}
	}
	__sync_fetch_and_add(&p->lookups, s->pc.lookups);
	__sync_fetch_and_add(&p->misses, s->pc.misses);
	s->pc.lookups = 0;
	s->pc.misses = 0;
}

/* The task iterator: one record per live thread with counts (struct o11y_pc_thread). */
static __always_inline void pc_iter_thread(struct seq_file *seq, struct task_struct *task)
{
	struct o11y_pc_thread r = {};
	struct o11y_task *s;

	s = bpf_task_storage_get(&task_state, task, 0, 0);
	if (!s || (!s->pc.lookups && !s->pc.misses))
		return;
	r.tgid = task->tgid;
	r.tid = task->pid;
	r.lookups = s->pc.lookups;
	r.misses = s->pc.misses;
	BPF_CORE_READ_STR_INTO(&r.comm, task, group_leader, comm);
	bpf_seq_write(seq, &r, sizeof(r));
}

#endif
