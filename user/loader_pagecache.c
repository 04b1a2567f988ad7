// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Loader of bpf/pagecache.bpf.c: keeps the programs whose filemap tracepoint this kernel has,
 * shares the HTTP capture's task_state map (so the kernel charges a request's lookups to it),
 * reads the per-process counters (live threads through the task iterator, exited ones from
 * pc_tgid) into services on the main thread's tick, and serves the host and service totals to
 * /metrics and the OTLP exporter under a lock.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "log.h"
#include "pagecache.h"
#include "pagecache.skel.h"
#include "pagecache_kp.skel.h"
#include "proc.h"

#define TICK_NS 1000000000ULL /* per-process counters folded into services once a second */

/*
 * The programs, by what they attach to: the tracepoint object (Linux 6.10+) or the kprobe one
 * (older kernels, where kprobes can attach). The first two are needed for any count, the
 * fault one only for mmap, the exit one (every kernel has it) keeps the counts of threads
 * that exit.
 */
enum { PC_GET_PAGES, PC_ADDED, PC_FAULT, PC_EXIT, PC_NPROGS };
static const struct {
	const char *tp;	     /* the tracepoint (tracepoint object, and both for added/exit) */
	const char *tp_prog; /* its program in either object */
	const char *kfunc;   /* the function the kprobe object attaches to instead */
	const char *kp_prog;
	bool required;
} pc_progs[PC_NPROGS] = {
    [PC_GET_PAGES] = {"mm_filemap_get_pages", "tp_btf_mm_filemap_get_pages", "filemap_get_pages",
		      "kp_filemap_get_pages", true},
    [PC_ADDED] = {"mm_filemap_add_to_page_cache", "tp_btf_mm_filemap_add_to_page_cache", NULL, NULL,
		  true},
    [PC_FAULT] = {"mm_filemap_fault", "tp_btf_mm_filemap_fault", "filemap_fault",
		  "kp_filemap_fault", false},
    [PC_EXIT] = {"sched_process_exit", "tp_btf_sched_process_exit", NULL, NULL, true},
};

/* The loaded object, tracepoint or kprobe: the same maps and iterator either way. */
struct pc_obj {
	struct pagecache_bpf *tp;
	struct pagecache_kp_bpf *kp;
	struct bpf_object *obj;
	struct bpf_map *host, *tgid, *reqs, *paths, *errors, *task_state;
	struct bpf_program *iter;
	__u64 *reqs_created; /* pc_reqs_created in the mapped .bss */
};

static struct {
	pthread_mutex_t lock; /* guards o, agg and host against exporter threads */
	struct pc_obj o;
	struct bpf_link *links[PC_NPROGS];
	struct bpf_link *iter; /* pc_iter_threads, attached once, read once a tick */
	struct pc_agg *agg;
	struct pc_counts host;
	int ncpus;
	uint64_t last_tick;
	uint64_t start_unix_ns;
	bool requests; /* the HTTP capture's task_state map is shared */
	/*
	 * pc_reqs entries the kernel created that are gone, as of the last recount (taken, or
	 * left by requests that never ended and evicted), and those taken since: when the kernel's
	 * pc_reqs_created is no more than their sum, no entry waits and no lookup is needed.
	 */
	uint64_t reqs_resolved, reqs_taken_since;
} pc = {.lock = PTHREAD_MUTEX_INITIALIZER};

static bool kernel_has_tp(const struct btf *vmlinux, const char *tp)
{
	char name[128];

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	return vmlinux && btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF) > 0;
}

/* Host counters summed over CPUs, with monotonic hits; under pc.lock. */
static int read_host(void)
{
	struct o11y_pc_count *v;
	uint64_t l = 0, m = 0;
	__u32 zero = 0;
	int err = 0;

	v = calloc(pc.ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map__lookup_elem(pc.o.host, &zero, sizeof(zero), v, sizeof(*v) * pc.ncpus, 0)) {
		err = -errno;
		goto out;
	}
	for (int i = 0; i < pc.ncpus; i++) {
		l += v[i].lookups;
		m += v[i].misses;
	}
	pc_counts_update(&pc.host, l, m);
out:
	free(v);
	return err;
}

static int write_prom(struct prom_buf *b, void *ctx)
{
	struct pc_service *svc = NULL;
	struct pc_counts host;
	unsigned n = 0;
	int err;

	(void)ctx;
	err = pagecache_snapshot(&host, &svc, &n);
	if (err == -ESRCH)
		return 0;
	if (err) {
		log_warn("pagecache: reading the BPF maps failed: %s", strerror(-err));
		return err;
	}
	err = pc_prom_write(b, &host, svc, n);
	free(svc);
	if (!err) {
		uint64_t v[O11Y_ERR_USER_MAX];

		pthread_mutex_lock(&pc.lock);
		err = pc.o.obj ? loader_sum_errors(bpf_map__fd(pc.o.errors), pc.o.obj, v) : -ESRCH;
		pthread_mutex_unlock(&pc.lock);
		if (!err)
			loader_write_errors(
			    b, "o11y_ebpf_pagecache_kernel_errors_total",
			    "Failures in the page-cache BPF programs, by reason (each "
			    "may lose counts).",
			    v);
		else if (err == -ESRCH)
			err = 0;
	}
	return err;
}

static void detach(void)
{
	for (unsigned i = 0; i < PC_NPROGS; i++) {
		bpf_link__destroy(pc.links[i]);
		pc.links[i] = NULL;
	}
	bpf_link__destroy(pc.iter);
	pc.iter = NULL;
}

static void obj_destroy(struct pc_obj *o)
{
	pagecache_bpf__destroy(o->tp);
	pagecache_kp_bpf__destroy(o->kp);
	memset(o, 0, sizeof(*o));
}

/* The maps and iterator of either skeleton (the two have the same names). */
#define PC_OBJ_FROM(o, skel)                                                                       \
	do {                                                                                       \
		(o)->obj = (skel)->obj;                                                            \
		(o)->host = (skel)->maps.pc_host;                                                  \
		(o)->tgid = (skel)->maps.pc_tgid;                                                  \
		(o)->reqs = (skel)->maps.pc_reqs;                                                  \
		(o)->paths = (skel)->maps.pc_paths;                                                \
		(o)->errors = (skel)->maps.errors;                                                 \
		(o)->task_state = (skel)->maps.task_state;                                         \
		(o)->iter = (skel)->progs.pc_iter_threads;                                         \
	} while (0)

/* Is the second parameter of the kernel's filemap_get_pages an iov_iter (before 6.3)? */
static bool get_pages_takes_iter(const struct btf *vmlinux)
{
	int id = btf__find_by_name_kind(vmlinux, "filemap_get_pages", BTF_KIND_FUNC);
	const struct btf_type *t = id > 0 ? btf__type_by_id(vmlinux, id) : NULL;
	const struct btf_param *p;

	t = t ? btf__type_by_id(vmlinux, t->type) : NULL;
	if (!t || !btf_is_func_proto(t) || btf_vlen(t) < 2)
		return false;
	p = btf_params(t);
	return !strcmp(btf__name_by_offset(vmlinux, p[1].name_off), "iter");
}

/* Program i's name in the tracepoint or the kprobe object. */
static const char *prog_name(unsigned i, bool kprobes)
{
	return kprobes && pc_progs[i].kp_prog ? pc_progs[i].kp_prog : pc_progs[i].tp_prog;
}

/*
 * Opens the object this kernel can run: the tracepoint one when it has mm_filemap_get_pages
 * (and bpf_rdonly_cast, older than it), else the kprobe one when it has filemap_get_pages to
 * probe. have[] says which programs to load; *kprobes whether it is the kprobe object.
 * 0, -errno, or 1: the metrics are unavailable on this kernel (said why).
 */
static int obj_open(struct pc_obj *o, bool have[PC_NPROGS], bool *kprobes)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	bool cast, iter = false;

	if (!vmlinux) {
		log_warn(
		    "pagecache: no kernel BTF: page-cache hit and miss metrics are unavailable");
		return 1;
	}
	cast = btf__find_by_name_kind(vmlinux, "bpf_rdonly_cast", BTF_KIND_FUNC) > 0;
	for (unsigned i = 0; i < PC_NPROGS; i++)
		have[i] = kernel_has_tp(vmlinux, pc_progs[i].tp);
	*kprobes = !have[PC_GET_PAGES] || !cast;
	if (*kprobes) {
		have[PC_GET_PAGES] =
		    btf__find_by_name_kind(vmlinux, "filemap_get_pages", BTF_KIND_FUNC) > 0;
		have[PC_FAULT] =
		    btf__find_by_name_kind(vmlinux, "filemap_fault", BTF_KIND_FUNC) > 0;
		iter = get_pages_takes_iter(vmlinux);
	}
	btf__free(vmlinux);
	for (unsigned i = 0; i < PC_NPROGS; i++) {
		if (!have[i] && pc_progs[i].required) {
			log_warn("pagecache: this kernel has no %s %s: page-cache hit and miss "
				 "metrics are unavailable",
				 *kprobes && pc_progs[i].kfunc ? "function" : "tracepoint",
				 *kprobes && pc_progs[i].kfunc ? pc_progs[i].kfunc
							       : pc_progs[i].tp);
			return 1;
		}
	}
	if (*kprobes) {
		o->kp = pagecache_kp_bpf__open();
		if (!o->kp)
			return -errno;
		o->kp->rodata->cfg_pc_gp_iter = iter;
		PC_OBJ_FROM(o, o->kp);
	} else {
		o->tp = pagecache_bpf__open();
		if (!o->tp)
			return -errno;
		PC_OBJ_FROM(o, o->tp);
	}
	for (unsigned i = 0; i < PC_NPROGS; i++) {
		struct bpf_program *p =
		    bpf_object__find_program_by_name(o->obj, prog_name(i, *kprobes));

		if (p && !have[i]) {
			bpf_program__set_autoload(p, false);
			log_info("pagecache: no %s %s: mmap faults are not counted",
				 *kprobes ? "function" : "tracepoint",
				 *kprobes ? pc_progs[i].kfunc : pc_progs[i].tp);
		}
	}
	return 0;
}

static int obj_load(struct pc_obj *o, bool requests)
{
	int err;

	if (o->kp) {
		o->kp->rodata->cfg_pc_requests = requests;
		err = pagecache_kp_bpf__load(o->kp);
		if (!err)
			o->reqs_created = &o->kp->bss->pc_reqs_created;
	} else {
		o->tp->rodata->cfg_pc_requests = requests;
		err = pagecache_bpf__load(o->tp);
		if (!err)
			o->reqs_created = &o->tp->bss->pc_reqs_created;
	}
	return err;
}

int pagecache_start(struct http_capture *cap)
{
	bool have[PC_NPROGS], kprobes;
	int err, fd;

	if (!pagecache_cfg_enabled) {
		log_info("pagecache: off (--no-page-cache-metrics)");
		return 0;
	}
	pc.ncpus = libbpf_num_possible_cpus();
	if (pc.ncpus <= 0)
		return pc.ncpus ? pc.ncpus : -EINVAL;

	/* 1. the object this kernel can run; share task_state with the HTTP capture */
	err = obj_open(&pc.o, have, &kprobes);
	if (err > 0)
		return 0; /* unavailable here, said why */
	if (err) {
		log_error("pagecache: cannot open BPF object: %s", strerror(-err));
		goto out_destroy;
	}
	fd = cap ? http_capture_task_state_fd(cap) : -1;
	pc.requests = fd >= 0;
	if (fd >= 0) {
		err = bpf_map__reuse_fd(pc.o.task_state, fd);
		if (err) {
			log_error("pagecache: cannot share the HTTP task_state map: %s",
				  strerror(-err));
			goto out_destroy;
		}
	}
	err = obj_load(&pc.o, pc.requests);
	if (err) {
		log_error("pagecache: loading the BPF programs failed: %s", strerror(-err));
		goto out_destroy;
	}

	/* 2. attach each program on its own */
	for (unsigned i = 0; i < PC_NPROGS; i++) {
		if (!have[i])
			continue;
		pc.links[i] = bpf_program__attach(
		    bpf_object__find_program_by_name(pc.o.obj, prog_name(i, kprobes)));
		if (!pc.links[i]) {
			err = -errno;
			if (kprobes && pc_progs[i].kfunc) {
				log_warn(
				    "pagecache: no filemap_get_pages tracepoint in this kernel and "
				    "a kprobe on %s cannot attach (%s): page-cache hit and miss "
				    "metrics are unavailable",
				    pc_progs[i].kfunc, strerror(-err));
				err = 0;
			} else {
				log_error("pagecache: attaching %s failed: %s", pc_progs[i].tp,
					  strerror(-err));
			}
			goto out_detach;
		}
	}
	pc.iter = bpf_program__attach_iter(pc.o.iter, NULL);
	if (!pc.iter) {
		err = -errno;
		log_error("pagecache: attaching the task iterator failed: %s", strerror(-err));
		goto out_detach;
	}
	pc.agg = pc_agg_new();
	if (!pc.agg) {
		err = -ENOMEM;
		goto out_detach;
	}
	err = prom_register_source("pagecache", write_prom, NULL);
	if (err)
		goto out_agg;
	{
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		pc.start_unix_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	}
	pc_set_source(pagecache_snapshot, pc.start_unix_ns);
	if (kprobes)
		log_info(
		    "pagecache: kprobes on filemap_get_pages%s (no filemap:mm_filemap_get_pages "
		    "tracepoint in this kernel), tp_btf filemap:mm_filemap_add_to_page_cache; "
		    "per-request attribution %s",
		    have[PC_FAULT] ? "/filemap_fault" : "",
		    pc.requests ? "on" : "off (no HTTP capture)");
	else
		log_info("pagecache: tp_btf filemap:mm_filemap_get_pages/add_to_page_cache%s; "
			 "per-request attribution %s",
			 have[PC_FAULT] ? "/fault" : "",
			 pc.requests ? "on" : "off (no HTTP capture)");
	return 0;

out_agg:
	pc_agg_free(pc.agg);
	pc.agg = NULL;
out_detach:
	detach();
out_destroy:
	obj_destroy(&pc.o);
	return err;
}

bool pagecache_running(void)
{
	return pc.o.obj != NULL;
}

/* The service a process belongs to: what spans say (main thread), else its kernel comm. */
static void service_of(uint32_t tgid, const char *comm, char *buf, size_t size)
{
	const struct proc_info *p = NULL;

	if (kill((pid_t)tgid, 0) == 0 || errno == EPERM)
		p = proc_lookup(tgid);
	if (p && p->service_name[0])
		snprintf(buf, size, "%s", p->service_name);
	else
		snprintf(buf, size, "%.*s", O11Y_PC_COMM_LEN, comm);
}

static bool proc_gone(uint32_t tgid)
{
	return kill((pid_t)tgid, 0) && errno == ESRCH;
}

/* A process's counts as read this tick: its exited threads' plus its live threads'. */
struct proc_sum {
	uint32_t tgid;
	bool gone; /* the process no longer exists: its pc_tgid entry is final */
	uint64_t lookups, misses;
	char comm[O11Y_PC_COMM_LEN];
};

struct proc_sums {
	struct proc_sum *v;
	size_t n, cap;
};

static struct proc_sum *sums_add(struct proc_sums *s, uint32_t tgid, uint64_t lookups,
				 uint64_t misses, const char *comm)
{
	struct proc_sum *p;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;

		p = realloc(s->v, cap * sizeof(*p));
		if (!p)
			return NULL;
		s->v = p;
		s->cap = cap;
	}
	p = &s->v[s->n++];
	memset(p, 0, sizeof(*p));
	p->tgid = tgid;
	p->lookups = lookups;
	p->misses = misses;
	memcpy(p->comm, comm, O11Y_PC_COMM_LEN);
	return p;
}

static int sum_cmp(const void *a, const void *b)
{
	const struct proc_sum *x = a, *y = b;

	return x->tgid < y->tgid ? -1 : x->tgid > y->tgid;
}

/*
 * 1. pc_tgid: the counts of threads that exited. A process found gone first has a final entry
 *    (its last thread added to it before it could be reaped).
 * 2. The task iterator: every live thread's counts. Read after pc_tgid, a thread that exits in
 *    between is missed this tick (its counts show next tick), never counted twice.
 */
static int read_threads(struct proc_sums *out)
{
	int fd = bpf_map__fd(pc.o.tgid), ifd;
	struct o11y_pc_thread *recs;
	struct o11y_pc_tgid v;
	__u32 key, next, *prev = NULL;
	size_t have = 0, size = 64 * sizeof(*recs);
	ssize_t got;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		bool gone;

		key = next;
		prev = &key;
		gone = proc_gone(key);
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue;
		if (!sums_add(out, key, v.lookups, v.misses, v.comm))
			return -ENOMEM;
		out->v[out->n - 1].gone = gone;
	}
	ifd = bpf_iter_create(bpf_link__fd(pc.iter));
	if (ifd < 0)
		return -errno;
	recs = malloc(size);
	if (!recs) {
		close(ifd);
		return -ENOMEM;
	}
	for (;;) {
		if (size - have < 16 * sizeof(*recs)) {
			void *p = realloc(recs, 2 * size);

			if (!p) {
				got = -1;
				errno = ENOMEM;
				break;
			}
			recs = p;
			size *= 2;
		}
		got = read(ifd, (char *)recs + have, size - have);
		if (got <= 0)
			break;
		have += (size_t)got;
	}
	close(ifd);
	for (size_t i = 0; got == 0 && i < have / sizeof(*recs); i++)
		if (!sums_add(out, recs[i].tgid, recs[i].lookups, recs[i].misses, recs[i].comm))
			got = -1, errno = ENOMEM;
	free(recs);
	return got < 0 ? -errno : 0;
}

/* Folds every process's counters into its service; forgets processes that are gone. */
static void fold_procs(void)
{
	struct proc_sums s = {0};
	int err;

	err = read_threads(&s);
	if (err) {
		log_warn("pagecache: reading the per-process counters failed: %s", strerror(-err));
		free(s.v);
		return;
	}
	qsort(s.v, s.n, sizeof(*s.v), sum_cmp);
	for (size_t i = 0; i < s.n;) {
		struct proc_sum p = s.v[i];
		char service[SPAN_NAME_MAX] = "";

		for (i++; i < s.n && s.v[i].tgid == p.tgid; i++) {
			p.lookups += s.v[i].lookups;
			p.misses += s.v[i].misses;
			p.gone |= s.v[i].gone;
			if (!p.comm[0])
				memcpy(p.comm, s.v[i].comm, sizeof(p.comm));
		}
		service_of(p.tgid, p.comm, service, sizeof(service));
		pc_agg_proc(pc.agg, p.tgid, service, p.lookups, p.misses);
		if (p.gone) {
			bpf_map_delete_elem(bpf_map__fd(pc.o.tgid), &p.tgid);
			pc_agg_forget(pc.agg, p.tgid);
		}
	}
	pc_agg_sweep(pc.agg, proc_gone);
	free(s.v);
}

/*
 * Recounts pc_reqs (main thread, once a tick), and deletes the entries of requests whose span
 * never ended (their connection's events were lost) once no read has touched them for
 * REQ_IDLE_NS. Reading the counter before counting errs on the safe side: an entry created
 * meanwhile is counted as waiting.
 */
#define REQ_IDLE_NS (300 * 1000000000ULL)
static void recount_reqs(void)
{
	struct o11y_pc_req_key key, next, stale[64];
	uint64_t created = __atomic_load_n(pc.o.reqs_created, __ATOMIC_ACQUIRE);
	uint64_t n = 0, now;
	unsigned nstale = 0;
	int fd = bpf_map__fd(pc.o.reqs);
	void *prev = NULL;
	static struct o11y_pc_req r;

	now = proc_mono_ns();
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		n++;
		if (key.req_ts + REQ_IDLE_NS < now && nstale < sizeof(stale) / sizeof(stale[0]) &&
		    bpf_map_lookup_elem(fd, &key, &r) == 0) {
			uint64_t last = key.req_ts;

			for (unsigned i = 0; i < r.nfiles && i < O11Y_PC_REQ_FILES; i++)
				if (r.files[i].last_ns > last)
					last = r.files[i].last_ns;
			if (last + REQ_IDLE_NS < now)
				stale[nstale++] = key;
		}
	}
	/* deleted after the walk: get_next_key from a deleted key would start over */
	for (unsigned i = 0; i < nstale; i++)
		if (bpf_map_delete_elem(fd, &stale[i]) == 0)
			n--;
	pc.reqs_resolved = created > n ? created - n : 0;
	pc.reqs_taken_since = 0;
}

void pagecache_tick(uint64_t now)
{
	if (!pc.o.obj || now < pc.last_tick + TICK_NS)
		return;
	pc.last_tick = now;
	if (pc.requests)
		recount_reqs();
	pthread_mutex_lock(&pc.lock);
	fold_procs();
	pthread_mutex_unlock(&pc.lock);
}

int pagecache_snapshot(struct pc_counts *host, struct pc_service **svc, unsigned *n)
{
	int err;

	*svc = NULL;
	*n = 0;
	pthread_mutex_lock(&pc.lock);
	if (!pc.o.obj) {
		err = -ESRCH;
		goto out;
	}
	err = read_host();
	if (!err)
		err = pc_agg_services(pc.agg, svc, n);
	*host = pc.host;
out:
	pthread_mutex_unlock(&pc.lock);
	return err;
}

/*
 * The path of a file a request read: a key always names the same path, so what was read once
 * is kept here (direct-mapped, main thread only) and the kernel map is asked only for new ones.
 */
#define PATH_CACHE 1024
static struct {
	uint64_t id;
	struct o11y_pc_path path;
} path_cache[PATH_CACHE];

static void path_of(uint64_t id, struct o11y_pc_path *out)
{
	unsigned slot = (unsigned)((id * 0x9e3779b97f4a7c15ULL) >> 54) % PATH_CACHE;

	memset(out, 0, sizeof(*out));
	if (!id)
		return;
	if (path_cache[slot].id == id) {
		*out = path_cache[slot].path;
		return;
	}
	if (bpf_map_lookup_elem(bpf_map__fd(pc.o.paths), &id, out)) {
		memset(out, 0, sizeof(*out));
		return;
	}
	path_cache[slot].id = id;
	path_cache[slot].path = *out;
}

/*
 * Every pc_reqs record as read at the start of a drain: complete for every request whose
 * response ended before it was read (its reads came before its last send). Main thread only.
 */
static struct {
	bool valid;
	uint64_t t; /* CLOCK_MONOTONIC just before the read */
	struct o11y_pc_req_key *keys;
	struct o11y_pc_req *vals;
	size_t n, cap;
	uint32_t *index; /* open addressing over keys: i + 1, 0 empty */
	size_t nindex;
	struct o11y_pc_req_key *taken; /* to delete at the end of the drain (cap entries) */
	size_t ntaken;
} snap;

static size_t snap_slot(const struct o11y_pc_req_key *k)
{
	return (size_t)(((k->conn_id ^ k->req_ts * 0x9e3779b97f4a7c15ULL) *
			 0xff51afd7ed558ccdULL) >>
			32) &
	       (snap.nindex - 1);
}

static int snap_grow(void)
{
	size_t cap = snap.cap ? 2 * snap.cap : 256;
	void *k = realloc(snap.keys, cap * sizeof(*snap.keys));

	if (!k)
		return -ENOMEM;
	snap.keys = k;
	k = realloc(snap.vals, cap * sizeof(*snap.vals));
	if (!k)
		return -ENOMEM;
	snap.vals = k;
	k = realloc(snap.taken, cap * sizeof(*snap.taken));
	if (!k)
		return -ENOMEM;
	snap.taken = k;
	k = realloc(snap.index, 2 * cap * sizeof(*snap.index));
	if (!k)
		return -ENOMEM;
	snap.index = k;
	snap.cap = cap;
	return 0;
}

void pagecache_reqs_begin(void)
{
	int fd, err = 0;
	__u32 token, count;
	void *in = NULL;

	snap.valid = false;
	snap.n = snap.ntaken = 0;
	if (!pc.o.obj || !pc.requests)
		return;
	snap.t = proc_mono_ns();
	if (__atomic_load_n(pc.o.reqs_created, __ATOMIC_ACQUIRE) <=
	    pc.reqs_resolved + pc.reqs_taken_since) {
		snap.valid = true; /* no record exists: nothing to read */
		return;
	}
	fd = bpf_map__fd(pc.o.reqs);
	for (;;) {
		if (snap.cap - snap.n < 64 && snap_grow())
			return;
		count = (__u32)(snap.cap - snap.n);
		err = bpf_map_lookup_batch(fd, in, &token, snap.keys + snap.n, snap.vals + snap.n,
					   &count, NULL);
		if (err && errno == ENOSPC && count == 0) {
			if (snap_grow())
				return;
			continue; /* a bucket larger than the room left: again, from the same place
				   */
		}
		snap.n += count;
		if (err)
			break;
		in = &token;
	}
	if (errno != ENOENT) {
		log_warn("pagecache: reading the requests' records failed: %s", strerror(errno));
		return;
	}
	snap.nindex = 2 * snap.cap;
	memset(snap.index, 0, snap.nindex * sizeof(*snap.index));
	for (size_t i = 0; i < snap.n; i++) {
		size_t j = snap_slot(&snap.keys[i]);

		while (snap.index[j])
			j = (j + 1) & (snap.nindex - 1);
		snap.index[j] = (uint32_t)i + 1;
	}
	snap.valid = true;
}

void pagecache_reqs_end(void)
{
	__u32 count = (__u32)snap.ntaken;
	int fd;

	if (!pc.o.obj || !snap.ntaken)
		goto out;
	fd = bpf_map__fd(pc.o.reqs);
	if (bpf_map_delete_batch(fd, snap.taken, &count, NULL)) {
		/* stopped at a key already gone: the others one by one */
		for (size_t i = count + 1; i < snap.ntaken; i++)
			if (bpf_map_delete_elem(fd, &snap.taken[i]) == 0)
				count++;
	}
	pc.reqs_taken_since += count;
out:
	snap.valid = false;
	snap.ntaken = 0;
}

/* The request's record from the drain's copy: 0, -ENOENT (none: it read no file), or 1 (ask). */
static int snap_take(const struct o11y_pc_req_key *key, uint64_t end_mono, struct o11y_pc_req *out)
{
	if (!snap.valid || !end_mono || end_mono >= snap.t)
		return 1;
	if (!snap.n)
		return -ENOENT;
	for (size_t j = snap_slot(key); snap.index[j]; j = (j + 1) & (snap.nindex - 1)) {
		size_t i = snap.index[j] - 1;

		if (snap.keys[i].conn_id == key->conn_id && snap.keys[i].req_ts == key->req_ts) {
			*out = snap.vals[i];
			snap.taken[snap.ntaken++] = *key;
			return 0;
		}
	}
	return -ENOENT;
}

int pagecache_req_take(uint64_t conn_id, uint64_t req_ts, uint64_t end_mono,
		       struct o11y_pc_req *out, struct o11y_pc_path *paths)
{
	struct o11y_pc_req_key key = {.conn_id = conn_id, .req_ts = req_ts};
	int fd, err;

	if (!pc.o.obj || !pc.requests)
		return -ENOENT;
	err = snap_take(&key, end_mono, out);
	if (err < 0)
		return err;
	if (err > 0) {
		if (__atomic_load_n(pc.o.reqs_created, __ATOMIC_ACQUIRE) <=
		    pc.reqs_resolved + pc.reqs_taken_since + snap.ntaken)
			return -ENOENT;
		fd = bpf_map__fd(pc.o.reqs);
		if (bpf_map_lookup_and_delete_elem(fd, &key, out))
			return -errno;
		pc.reqs_taken_since++;
	}
	for (unsigned i = 0; i < out->nfiles && i < O11Y_PC_REQ_FILES; i++)
		path_of(out->files[i].path_id, &paths[i]);
	return 0;
}

void pagecache_stop(void)
{
	struct pc_obj o;

	if (!pc.o.obj)
		return;
	pc_set_source(NULL, 0);
	pthread_mutex_lock(&pc.lock);
	fold_procs();
	o = pc.o;
	memset(&pc.o, 0, sizeof(pc.o));
	pthread_mutex_unlock(&pc.lock);
	detach();
	obj_destroy(&o);
	pc_agg_free(pc.agg);
	pc.agg = NULL;
}
