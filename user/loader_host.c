// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Loader of bpf/host.bpf.c: keeps the programs whose tracepoint this kernel has, attaches each
 * on its own (a failure costs only its metrics), reads the maps into a struct host_snapshot
 * when /metrics is scraped (HTTP server thread), and logs OOM victims from a small thread.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "host.skel.h"
#include "host_metrics.h"
#include "loader.h"
#include "log.h"

/* One program: where it hooks, how to tell the kernel has the hook, what it feeds. */
struct host_prog {
	const char *prog; /* program name in bpf/host.bpf.c */
	const char *tp;	  /* tracepoint, for the logs */
	const char *btf;  /* BTF name the kernel has when it has the tracepoint */
	int btf_kind;	  /* BTF_KIND_TYPEDEF (tp_btf) or BTF_KIND_STRUCT (classic record) */
	unsigned have;	  /* enum host_have bit lost when the program is not attached */
};

static const struct host_prog host_progs[] = {
    {"tp_btf_sched_wakeup", "sched:sched_wakeup", "btf_trace_sched_wakeup", BTF_KIND_TYPEDEF,
     HOST_HAVE_RUNQ},
    {"tp_btf_sched_wakeup_new", "sched:sched_wakeup_new", "btf_trace_sched_wakeup_new",
     BTF_KIND_TYPEDEF, HOST_HAVE_RUNQ},
    {"tp_btf_sched_switch", "sched:sched_switch", "btf_trace_sched_switch", BTF_KIND_TYPEDEF,
     HOST_HAVE_RUNQ},
    {"tp_btf_block_rq_issue", "block:block_rq_issue", "btf_trace_block_rq_issue", BTF_KIND_TYPEDEF,
     HOST_HAVE_BLOCK},
    {"tp_btf_block_rq_complete", "block:block_rq_complete", "btf_trace_block_rq_complete",
     BTF_KIND_TYPEDEF, HOST_HAVE_BLOCK},
    {"tp_btf_tcp_retransmit_skb", "tcp:tcp_retransmit_skb", "btf_trace_tcp_retransmit_skb",
     BTF_KIND_TYPEDEF, HOST_HAVE_RETRANS},
    {"tp_btf_tcp_send_reset", "tcp:tcp_send_reset", "btf_trace_tcp_send_reset", BTF_KIND_TYPEDEF,
     HOST_HAVE_RST_SENT},
    {"tp_btf_tcp_receive_reset", "tcp:tcp_receive_reset", "btf_trace_tcp_receive_reset",
     BTF_KIND_TYPEDEF, HOST_HAVE_RST_RECV},
    {"tp_sock_inet_sock_set_state", "sock:inet_sock_set_state",
     "trace_event_raw_inet_sock_set_state", BTF_KIND_STRUCT, HOST_HAVE_TCP_STATE},
    {"tp_oom_mark_victim", "oom:mark_victim", "trace_event_raw_mark_victim", BTF_KIND_STRUCT,
     HOST_HAVE_OOM},
    {"tp_btf_sched_process_exec", "sched:sched_process_exec", "btf_trace_sched_process_exec",
     BTF_KIND_TYPEDEF, HOST_HAVE_EXEC},
    {"tp_btf_sched_process_exit", "sched:sched_process_exit", "btf_trace_sched_process_exit",
     BTF_KIND_TYPEDEF, HOST_HAVE_EXIT},
};
#define HOST_NPROGS (sizeof(host_progs) / sizeof(host_progs[0]))

static struct {
	pthread_mutex_t lock; /* guards skel against a scrape during host_metrics_stop */
	struct host_bpf *skel;
	struct bpf_link *links[HOST_NPROGS];
	unsigned have;
	int ncpus;
	struct ring_buffer *oom_rb;
	pthread_t oom_thread;
	bool oom_running;
	volatile bool stop;
} host = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Sums a per-CPU value of n u64 words at key into out[n]; 0 or -errno. */
static int read_percpu_u64s(int fd, const void *key, __u64 *out, unsigned n)
{
	__u64 *vals;
	int err = 0;

	vals = calloc((size_t)host.ncpus * n, sizeof(__u64));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, key, vals)) {
		err = -errno;
		goto out_free;
	}
	memset(out, 0, n * sizeof(__u64));
	for (int cpu = 0; cpu < host.ncpus; cpu++)
		for (unsigned i = 0; i < n; i++)
			out[i] += vals[(size_t)cpu * n + i];
out_free:
	free(vals);
	return err;
}

static int blk_cmp(const void *a, const void *b)
{
	const struct host_blk_series *x = a, *y = b;
	int c = strcmp(x->device, y->device);

	return c ? c : (int)x->op - (int)y->op;
}

static int read_blk(struct host_snapshot *s)
{
	int fd = bpf_map__fd(host.skel->maps.blk_hist);
	struct o11y_blk_key key, next;
	const struct o11y_blk_key *prev = NULL;
	const unsigned words = sizeof(struct o11y_hist) / sizeof(__u64);
	int err;

	while (s->n_blk < O11Y_BLK_MAX_DISKS && bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct host_blk_series *bs = &s->blk[s->n_blk];

		key = next;
		prev = &key;
		err = read_percpu_u64s(fd, &key, (__u64 *)&bs->hist, words);
		if (err == -ENOENT)
			continue; /* deleted meanwhile: never happens today, harmless */
		if (err)
			return err;
		host_dev_name("/sys", key.dev >> 20, key.dev & 0xfffff, bs->device,
			      sizeof(bs->device));
		bs->op = key.op;
		s->n_blk++;
	}
	qsort(s->blk, s->n_blk, sizeof(s->blk[0]), blk_cmp);
	return 0;
}

static int read_snapshot(struct host_snapshot *s)
{
	const unsigned hist_words = sizeof(struct o11y_hist) / sizeof(__u64);
	struct host_bpf *skel = host.skel;
	__u32 zero = 0;
	int err;

	s->have = host.have;
	err = read_percpu_u64s(bpf_map__fd(skel->maps.runq_hist), &zero, (__u64 *)&s->runq,
			       hist_words);
	if (!err)
		err = read_percpu_u64s(bpf_map__fd(skel->maps.tcp_conn_hist), &zero,
				       (__u64 *)&s->tcp_connect, hist_words);
	for (__u32 i = 0; !err && i < O11Y_HOST_CTR__MAX; i++)
		err =
		    read_percpu_u64s(bpf_map__fd(skel->maps.host_counters), &i, &s->counters[i], 1);
	for (__u32 i = 0; !err && i < O11Y_ERR__MAX; i++)
		err = read_percpu_u64s(bpf_map__fd(skel->maps.errors), &i, &s->errors[i], 1);
	s->errors[O11Y_ERR_SKIPPED] = loader_skipped_runs(skel->obj);
	if (!err)
		err = read_blk(s);
	return err;
}

/* The /metrics source; runs in the HTTP server thread. */
static int write_host(struct prom_buf *b, void *ctx)
{
	struct host_snapshot *s;
	int err = 0;

	(void)ctx;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pthread_mutex_lock(&host.lock);
	if (host.skel)
		err = read_snapshot(s);
	else
		err = -ESRCH; /* stopped */
	pthread_mutex_unlock(&host.lock);
	if (err == -ESRCH)
		err = 0;
	else if (err)
		log_warn("host: reading the BPF maps failed: %s", strerror(-err));
	else
		err = host_metrics_write(b, s);
	free(s);
	return err;
}

static int on_oom(void *ctx, void *data, size_t size)
{
	const struct o11y_oom_event *ev = data;
	char comm[O11Y_COMM_LEN + 1] = "";

	(void)ctx;
	if (size < sizeof(*ev))
		return 0;
	memcpy(comm, ev->comm, O11Y_COMM_LEN);
	if (!comm[0]) {
		/* kernels before v6.9 give only the pid; the victim may still be in /proc */
		char path[64];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%u/comm", ev->pid);
		f = fopen(path, "r");
		if (f) {
			if (fgets(comm, sizeof(comm), f))
				comm[strcspn(comm, "\n")] = '\0';
			fclose(f);
		}
	}
	log_warn("oom: the kernel OOM killer chose pid %u (%s)", ev->pid, comm[0] ? comm : "?");
	return 0;
}

/* OOM victims are rare: a thread polls their small ring buffer with a timeout. */
static void *oom_main(void *arg)
{
	(void)arg;
	while (!host.stop) {
		int err = ring_buffer__poll(host.oom_rb, 500);

		if (err < 0 && err != -EINTR) {
			log_warn("oom: ring buffer poll failed: %s", strerror(-err));
			break;
		}
	}
	return NULL;
}

/* Turns off the programs whose tracepoint this kernel lacks, so the object still loads. */
static void choose_programs(struct host_bpf *skel)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();

	for (unsigned i = 0; i < HOST_NPROGS; i++) {
		const struct host_prog *hp = &host_progs[i];
		struct bpf_program *p = bpf_object__find_program_by_name(skel->obj, hp->prog);

		if (!p)
			continue;
		if (vmlinux && btf__find_by_name_kind(vmlinux, hp->btf, hp->btf_kind) > 0)
			continue;
		bpf_program__set_autoload(p, false);
	}
	btf__free(vmlinux);
}

static void attach_programs(void)
{
	unsigned nattached = 0;

	for (unsigned i = 0; i < HOST_NPROGS; i++) {
		const struct host_prog *hp = &host_progs[i];
		struct bpf_program *p = bpf_object__find_program_by_name(host.skel->obj, hp->prog);

		if (!p || !bpf_program__autoload(p)) {
			log_warn("host: kernel has no %s tracepoint; %s not attached", hp->tp,
				 hp->prog);
			host.have &= ~hp->have;
			continue;
		}
		host.links[i] = bpf_program__attach(p);
		if (!host.links[i]) {
			log_warn("host: cannot attach %s to %s: %s; its metrics are left out",
				 hp->prog, hp->tp, strerror(errno));
			host.have &= ~hp->have;
			continue;
		}
		nattached++;
	}
	log_info("host: %u of %zu programs attached", nattached, HOST_NPROGS);
}

int host_metrics_start(void)
{
	sigset_t all, old;
	int err;

	if (!host_cfg_enabled) {
		log_info("host: metrics off (--no-ebpf-host-metrics)");
		return 0;
	}
	loader_init_libbpf_log();
	host.ncpus = libbpf_num_possible_cpus();
	if (host.ncpus < 0) {
		log_error("host: cannot count the possible CPUs: %s", strerror(-host.ncpus));
		return host.ncpus;
	}
	host.skel = host_bpf__open();
	if (!host.skel) {
		err = -errno;
		log_error("host: cannot open the BPF object: %s", strerror(-err));
		return err;
	}
	choose_programs(host.skel);
	err = host_bpf__load(host.skel);
	if (err) {
		log_error("host: cannot load the BPF programs: %s", strerror(-err));
		goto out_destroy;
	}
	host.have = ~0u;
	attach_programs();

	host.oom_rb = ring_buffer__new(bpf_map__fd(host.skel->maps.oom_events), on_oom, NULL, NULL);
	if (!host.oom_rb) {
		err = -errno;
		log_error("host: cannot open the OOM ring buffer: %s", strerror(-err));
		goto out_detach;
	}
	host.stop = false;
	/* the thread takes no signals: they are the main loop's (signalfd), whenever it starts */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = -pthread_create(&host.oom_thread, NULL, oom_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		log_error("host: cannot start the OOM thread: %s", strerror(-err));
		goto out_free_rb;
	}
	host.oom_running = true;
	err = prom_register_source("host", write_host, NULL);
	if (err)
		goto out_stop;
	return 0;

out_stop:
	host_metrics_stop();
	return err;
out_free_rb:
	ring_buffer__free(host.oom_rb);
	host.oom_rb = NULL;
out_detach:
	for (unsigned i = 0; i < HOST_NPROGS; i++) {
		bpf_link__destroy(host.links[i]);
		host.links[i] = NULL;
	}
out_destroy:
	host_bpf__destroy(host.skel);
	host.skel = NULL;
	return err;
}

void host_metrics_stop(void)
{
	if (host.oom_running) {
		host.stop = true;
		pthread_join(host.oom_thread, NULL);
		host.oom_running = false;
	}
	ring_buffer__free(host.oom_rb);
	host.oom_rb = NULL;
	pthread_mutex_lock(&host.lock);
	for (unsigned i = 0; i < HOST_NPROGS; i++) {
		bpf_link__destroy(host.links[i]);
		host.links[i] = NULL;
	}
	host_bpf__destroy(host.skel);
	host.skel = NULL;
	pthread_mutex_unlock(&host.lock);
}
