// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Loader of the HTTP capture: probe, choose, load, attach. The steps run in order, once, at
 * start; each failure is logged where it happens.
 */
#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "http.skel.h"
#include "loader.h"
#include "log.h"
#include "pagecache.h"
#include "o11y/http.h"
#include "prom.h"

#define TRACEFS_MAGIC 0x74726163

struct http_capture {
	struct http_bpf *skel;
	struct ring_buffer *rb;
	const char *mechanism;
};

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum log_level lvl = level == LIBBPF_WARN ? LOG_WARN : LOG_DEBUG;
	char *msg, *line, *save;

	if (lvl > log_current_level)
		return 0;
	/* line by line: a verifier log runs to many KiB, and its end says why a load failed */
	if (vasprintf(&msg, fmt, ap) < 0)
		return 0;
	for (line = strtok_r(msg, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		log_msg(lvl, "libbpf: %s", line);
	free(msg);
	return 0;
}

void loader_init_libbpf_log(void)
{
	libbpf_set_print(libbpf_log);
}

static bool has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

int loader_check_privileges(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {};

	if (syscall(SYS_capget, &hdr, data)) {
		log_error("capget: %s", strerror(errno));
		return -errno;
	}
	if (!has_cap(data, CAP_SYS_ADMIN) &&
	    !(has_cap(data, CAP_BPF) && has_cap(data, CAP_PERFMON))) {
		log_error("o11y-ebpf needs root (or the capabilities CAP_BPF and CAP_PERFMON, "
			  "plus CAP_SYS_RESOURCE and CAP_DAC_READ_SEARCH): run it with sudo");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		log_error("the kernel has no BTF (/sys/kernel/btf/vmlinux: %s): o11y-ebpf needs a "
			  "kernel built with CONFIG_DEBUG_INFO_BTF=y",
			  strerror(errno));
		return -ENOENT;
	}
	loader_init_libbpf_log();
	return 0;
}

int loader_mount_tracefs(const char *dir)
{
	struct statfs st;

	if (statfs(dir, &st) == 0 && st.f_type == TRACEFS_MAGIC)
		return 0;
	if (mount("tracefs", dir, "tracefs", 0, NULL)) {
		log_error("cannot mount tracefs at %s: %s", dir, strerror(errno));
		return -errno;
	}
	log_info("mounted tracefs at %s", dir);
	return 0;
}

/* Does the running kernel have a tracepoint, by its BTF (btf_trace_<name> typedef)? */
static bool kernel_has_btf_tp(const struct btf *vmlinux, const char *tp)
{
	char name[128];

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	return vmlinux && btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF) > 0;
}

static bool kprobes_available(const char *tracefs)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/kprobe_events", tracefs);
	return access(path, F_OK) == 0;
}

static bool prog_is_sock_path(const struct bpf_program *p)
{
	return strncmp(bpf_program__name(p), "tp_btf_", 7) == 0;
}

/* Adds the local port of every TCP socket in LISTEN state in one /proc/.../net/tcp{,6}. */
static void seed_listen_file(int map_fd, const char *path, unsigned *nports)
{
	char line[512];
	FILE *f = fopen(path, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned port, st;
		__u8 one = 1;
		__u16 p;

		/* "  0: 0100007F:1F90 00000000:0000 0A ..." */
		if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", &port, &st) != 2 ||
		    st != 0x0A)
			continue;
		p = (__u16)port;
		if (bpf_map_update_elem(map_fd, &p, &one, BPF_ANY) == 0)
			(*nports)++;
	}
	fclose(f);
}

/*
 * The socket path looks only at recvs on sockets whose local port something listens on. New
 * listeners are added by the kernel side from attach on; this adds those that were there
 * before, in every network namespace (containers and pods have their own).
 */
static void seed_listen_ports(struct http_bpf *skel)
{
	int map_fd = bpf_map__fd(skel->maps.listen_ports);
	unsigned long long seen[4096];
	unsigned nseen = 0, nports = 0;
	struct dirent *de;
	DIR *d;

	d = opendir("/proc");
	if (!d) {
		log_warn("http: cannot list /proc to find listening sockets: %s", strerror(errno));
		return;
	}
	while ((de = readdir(d))) {
		char path[sizeof(de->d_name) + 32];
		struct stat st;
		unsigned i;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
		if (stat(path, &st))
			continue;
		for (i = 0; i < nseen && seen[i] != st.st_ino; i++)
			;
		if (i < nseen)
			continue;
		if (nseen < sizeof(seen) / sizeof(seen[0]))
			seen[nseen++] = st.st_ino;
		snprintf(path, sizeof(path), "/proc/%s/net/tcp", de->d_name);
		seed_listen_file(map_fd, path, &nports);
		snprintf(path, sizeof(path), "/proc/%s/net/tcp6", de->d_name);
		seed_listen_file(map_fd, path, &nports);
	}
	closedir(d);
	log_debug("http: %u listening sockets in %u network namespaces", nports, nseen);
}

/* Opens, configures and loads the object for one mechanism. */
static struct http_bpf *load_mechanism(bool sock_path)
{
	struct bpf_program *p;
	struct http_bpf *skel;
	int err;

	skel = http_bpf__open();
	if (!skel) {
		log_error("http: cannot open BPF object: %s", strerror(errno));
		return NULL;
	}
	/* the ring buffer's size is set before load; the agent is woken past a quarter of it */
	err = bpf_map__set_max_entries(skel->maps.http_events, (__u32)agent_cfg.ringbuf_kib * 1024);
	if (err) {
		log_error("http: cannot size the ring buffer: %s", strerror(-err));
		goto out_destroy;
	}
	skel->rodata->cfg_wake_bytes = (__u64)agent_cfg.ringbuf_kib * 1024 / 4;
	skel->rodata->cfg_self_tgid = getpid();
	skel->rodata->cfg_thread_request = pagecache_cfg_enabled;
	skel->rodata->cfg_filter_pids = agent_cfg.pids.n > 0;
	skel->rodata->cfg_filter_ports = agent_cfg.ports.n > 0;
	bpf_object__for_each_program(p, skel->obj)
	    bpf_program__set_autoload(p, prog_is_sock_path(p) == sock_path);
	err = http_bpf__load(skel);
	if (err) {
		log_warn("http: loading the %s programs failed: %s",
			 sock_path ? "socket tracepoint" : "syscall tracepoint", strerror(-err));
		goto out_destroy;
	}
	for (unsigned i = 0; i < agent_cfg.pids.n; i++) {
		__u32 pid = agent_cfg.pids.v[i];
		__u8 one = 1;

		if (bpf_map__update_elem(skel->maps.pid_filter, &pid, sizeof(pid), &one, 1, 0))
			goto out_map;
	}
	for (unsigned i = 0; i < agent_cfg.ports.n; i++) {
		__u16 port = agent_cfg.ports.v[i];
		__u8 one = 1;

		if (bpf_map__update_elem(skel->maps.port_filter, &port, sizeof(port), &one, 1, 0))
			goto out_map;
	}
	err = http_bpf__attach(skel);
	if (err) {
		log_warn("http: attaching the %s programs failed: %s",
			 sock_path ? "socket tracepoint" : "syscall tracepoint", strerror(-err));
		goto out_destroy;
	}
	if (sock_path)
		seed_listen_ports(skel);
	return skel;

out_map:
	log_error("http: cannot fill the filter maps: %s", strerror(errno));
out_destroy:
	http_bpf__destroy(skel);
	return NULL;
}

void loader_write_errors(struct prom_buf *b, const char *name, const char *help, const uint64_t *v)
{
	static const char *const names[] = O11Y_ERR_NAMES;

	prom_family(b, name, "counter", help);
	for (unsigned i = 0; i < O11Y_ERR_USER_MAX; i++) {
		const char *labels[] = {"reason", names[i], NULL};

		prom_sample(b, name, labels, (double)v[i]);
	}
}

static int write_lost(struct prom_buf *b, void *ctx)
{
	uint64_t v[O11Y_ERR_USER_MAX];
	int err;

	err = http_capture_errors(ctx, v);
	if (err)
		return err;
	loader_write_errors(
	    b, "o11y_ebpf_http_kernel_errors_total",
	    "Failures in the HTTP capture's BPF programs, by reason (each may lose an "
	    "event).",
	    v);
	return 0;
}

struct http_capture *http_capture_open(http_event_fn fn, void *ctx)
{
	struct http_capture *c;
	struct btf *vmlinux;
	bool want_sock, have_sock, kprobes;
	int err;

	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	/* 1. tracefs: the syscall tracepoints are found through it */
	err = loader_mount_tracefs(agent_cfg.tracefs);
	if (err && agent_cfg.http_capture == CAPTURE_SYSCALLS)
		goto out_free;
	kprobes = kprobes_available(agent_cfg.tracefs);

	/* 2. choose: socket tracepoints (6.5+) when the kernel has them, unless told otherwise */
	vmlinux = btf__load_vmlinux_btf();
	have_sock = kernel_has_btf_tp(vmlinux, "sock_recv_length") &&
		    kernel_has_btf_tp(vmlinux, "sock_send_length");
	btf__free(vmlinux);
	want_sock = agent_cfg.http_capture == CAPTURE_SOCK ||
		    (agent_cfg.http_capture == CAPTURE_AUTO && have_sock);
	if (agent_cfg.http_capture == CAPTURE_SOCK && !have_sock) {
		log_error("http: --http-capture=sock, but this kernel has no sock:sock_recv_length "
			  "tracepoint (Linux 6.5+)");
		err = -ENOTSUP;
		goto out_free;
	}

	/* 3. load and attach; the syscall tracepoints are the fallback for everything */
	if (want_sock) {
		c->skel = load_mechanism(true);
		if (c->skel)
			c->mechanism = "socket tracepoints sock:sock_recv_length/sock_send_length";
		else if (agent_cfg.http_capture == CAPTURE_SOCK)
			goto out_free_errno;
	}
	if (!c->skel) {
		c->skel = load_mechanism(false);
		if (!c->skel)
			goto out_free_errno;
		c->mechanism = "syscall tracepoints";
	}
	log_info("http: %s (%s%s)", c->mechanism,
		 kprobes ? "kprobes available, not needed" : "kprobes unavailable",
		 have_sock ? "" : "; no sock_recv_length tracepoint in this kernel");

	/* 4. the ring buffer, drained by the main loop */
	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.http_events), fn, ctx, NULL);
	if (!c->rb) {
		err = -errno;
		log_error("http: cannot set up the ring buffer: %s", strerror(-err));
		goto out_destroy;
	}
	prom_register_source("http_kernel_errors", write_lost, c);
	return c;

out_free_errno:
	err = -EINVAL;
	log_error("http: no capture mechanism could be loaded; see the messages above");
	goto out_free;
out_destroy:
	http_bpf__destroy(c->skel);
out_free:
	free(c);
	errno = -err;
	return NULL;
}

int http_capture_epoll_fd(const struct http_capture *c)
{
	return ring_buffer__epoll_fd(c->rb);
}

int http_capture_poll(struct http_capture *c)
{
	return ring_buffer__consume(c->rb);
}

int http_capture_conn(struct http_capture *c, uint64_t conn_id, uint64_t *last_send_ts,
		      uint64_t *resp_bytes)
{
	struct o11y_http_conn v;

	if (bpf_map__lookup_elem(c->skel->maps.http_conns, &conn_id, sizeof(conn_id), &v, sizeof(v),
				 0))
		return -ENOENT;
	*last_send_ts = v.last_send_ts;
	*resp_bytes = v.resp_bytes;
	return 0;
}

uint64_t loader_skipped_runs(struct bpf_object *obj)
{
	struct bpf_program *p;
	uint64_t n = 0;

	bpf_object__for_each_program(p, obj)
	{
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(p);

		memset(&info, 0, sizeof(info));
		if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
			n += info.recursion_misses;
	}
	return n;
}

int loader_sum_errors(int map_fd, struct bpf_object *obj, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (__u32 k = 0; k < O11Y_ERR__MAX; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(map_fd, &k, vals))
			continue;
		for (int i = 0; i < ncpu; i++)
			out[k] += vals[i];
	}
	free(vals);
	out[O11Y_ERR_SKIPPED] = loader_skipped_runs(obj);
	return 0;
}

int http_capture_errors(struct http_capture *c, uint64_t *out)
{
	return loader_sum_errors(bpf_map__fd(c->skel->maps.errors), c->skel->obj, out);
}

int http_capture_task_state_fd(const struct http_capture *c)
{
	return bpf_map__fd(c->skel->maps.task_state);
}

const char *http_capture_mechanism(const struct http_capture *c)
{
	return c->mechanism;
}

void loader_log_lost(struct http_capture *c)
{
	static const char *const names[] = O11Y_ERR_NAMES;
	uint64_t v[O11Y_ERR_USER_MAX], total = 0;

	if (http_capture_errors(c, v))
		return;
	for (unsigned i = 0; i < O11Y_ERR_USER_MAX; i++) {
		if (v[i])
			log_warn("http: %llu kernel-side failures: %s", (unsigned long long)v[i],
				 names[i]);
		total += v[i];
	}
	if (!total)
		log_info("http: no events lost in the kernel");
}

void http_capture_close(struct http_capture *c)
{
	if (!c)
		return;
	ring_buffer__free(c->rb);
	http_bpf__destroy(c->skel);
	free(c);
}
