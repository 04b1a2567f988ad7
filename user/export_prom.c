// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The /metrics endpoint. libmicrohttpd runs one internal polling thread, so scrapes are served
 * one at a time: the node collectors and the reused output buffers need no locks, and a slow
 * scrape delays the next one instead of piling up collectors (node_exporter's
 * --web.max-requests guards against the same).
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <pthread.h>

#include <microhttpd.h>
#include <libdeflate.h>

#include "export_prom.h"
#include "log.h"
#include "node/node.h"
#include "stats.h"

static struct {
	char *listen;
	char *path;
	bool no_exporter_metrics;
} prom_cfg;

static const struct opt prom_opts[] = {
	{ .name = "web.listen-address", .env = "O11Y_WEB_LISTEN_ADDRESS", .type = OPT_STR,
	  .dst = &prom_cfg.listen, .def = ":9100", .metavar = "[HOST]:PORT",
	  .help = "address of the Prometheus endpoint (host:port, :port or [v6addr]:port)" },
	{ .name = "web.telemetry-path", .env = "O11Y_WEB_TELEMETRY_PATH", .type = OPT_STR,
	  .dst = &prom_cfg.path, .def = "/metrics", .metavar = "PATH",
	  .help = "path under which metrics are served" },
	{ .name = "web.disable-exporter-metrics", .env = "O11Y_WEB_DISABLE_EXPORTER_METRICS",
	  .type = OPT_BOOL, .dst = &prom_cfg.no_exporter_metrics, .def = "false",
	  .help = "leave out the agent's own process_* metrics" },
};
const struct opt_table prom_opt_table = { "Prometheus endpoint", prom_opts,
					  sizeof(prom_opts) / sizeof(prom_opts[0]) };

static struct MHD_Daemon *daemon_;
static int listen_fd = -1;
static struct prom_buf out;	 /* the scrape, reused: only the server thread touches it */
static unsigned char *gz;	 /* its gzip encoding */
static size_t gz_cap;
static struct libdeflate_compressor *gz_comp;

/* ---- the agent's own metrics ---- */

static int stats_write(struct prom_buf *b, void *ctx)
{
	char name[96];

	(void)ctx;
	for (unsigned i = 0; i < STAT__MAX; i++) {
		if (!stats_names[i])
			continue;
		snprintf(name, sizeof(name), "o11y_ebpf_%s_total", stats_names[i]);
		prom_family(b, name, "counter", stats_help[i] ? stats_help[i] : stats_names[i]);
		prom_sample(b, name, NULL, (double)stats_get((enum stat_id)i));
	}
	return b->err;
}

int prom_write_process(struct prom_buf *b, const char *procfs)
{
	char path[4096], *text, *p, *line, *save = NULL;
	unsigned long long utime, stime, start, vsize, btime = 0;
	long long rss;
	long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	struct rlimit nofile, as;
	unsigned nfds = 0;
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/self/stat", procfs);
	text = node_slurp(path, NULL);
	if (!text)
		return -errno;
	/* fields after "(comm)": state ppid ... utime(14) stime(15) ... starttime(22) vsize rss */
	p = strrchr(text, ')');
	if (!p || sscanf(p + 2,
			 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d "
			 "%*d %*d %llu %llu %lld",
			 &utime, &stime, &start, &vsize, &rss) != 5) {
		free(text);
		return -EINVAL;
	}
	free(text);
	snprintf(path, sizeof(path), "%s/stat", procfs);
	/* the scrape's /proc/stat, when the cpu or stat collector has read it */
	if (node_cfg.procfs && strcmp(procfs, node_cfg.procfs) == 0) {
		int err = node_read_stat(&text);

		if (err)
			return err;
	} else {
		text = node_slurp(path, NULL);
		if (!text)
			return -errno;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, "btime %llu", &btime) == 1)
			break;
	free(text);
	snprintf(path, sizeof(path), "%s/self/fd", procfs);
	d = opendir(path);
	if (d) {
		while ((de = readdir(d)))
			nfds += de->d_name[0] != '.';
		closedir(d);
		nfds--; /* the directory stream's own descriptor */
	}
	getrlimit(RLIMIT_NOFILE, &nofile);
	getrlimit(RLIMIT_AS, &as);

	prom_family(b, "process_cpu_seconds_total", "counter",
		    "Total user and system CPU time spent in seconds.");
	prom_sample(b, "process_cpu_seconds_total", NULL, (double)(utime + stime) / (double)tck);
	prom_family(b, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
	prom_sample(b, "process_max_fds", NULL, (double)nofile.rlim_cur);
	prom_family(b, "process_open_fds", "gauge", "Number of open file descriptors.");
	prom_sample(b, "process_open_fds", NULL, nfds);
	prom_family(b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
	prom_sample(b, "process_resident_memory_bytes", NULL, (double)rss * (double)page);
	prom_family(b, "process_start_time_seconds", "gauge",
		    "Start time of the process since unix epoch in seconds.");
	prom_sample(b, "process_start_time_seconds", NULL,
		    (double)btime + (double)start / (double)tck);
	prom_family(b, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
	prom_sample(b, "process_virtual_memory_bytes", NULL, (double)vsize);
	prom_family(b, "process_virtual_memory_max_bytes", "gauge",
		    "Maximum amount of virtual memory available in bytes.");
	prom_sample(b, "process_virtual_memory_max_bytes", NULL,
		    as.rlim_cur == RLIM_INFINITY ? 18446744073709551615.0 : (double)as.rlim_cur);
	return b->err;
}

/* node_exporter's version collector, with this agent's version */
static void write_build_info(struct prom_buf *b)
{
	struct utsname u;
	const char *arch = "";

	if (!uname(&u))
		arch = strcmp(u.machine, "x86_64") == 0	 ? "amd64" :
		       strcmp(u.machine, "aarch64") == 0 ? "arm64" :
							   u.machine;
	prom_family(b, "node_exporter_build_info", "gauge",
		    "A metric with a constant '1' value labeled by version, revision, branch, "
		    "goversion from which node_exporter was built, and the goos and goarch for the "
		    "build.");
	prom_sample(b, "node_exporter_build_info",
		    (const char *const[]){ "branch", "", "goarch", arch, "goos", "linux",
					   "goversion", "", "revision", O11Y_VERSION, "version",
					   O11Y_VERSION, NULL },
		    1);
}

int prom_scrape(struct prom_buf *b, const char *const *collect, const char *const *exclude,
		char *msg, size_t msg_size)
{
	bool want[64];
	const bool *w = NULL;
	int err;

	if (collect && collect[0] && exclude && exclude[0]) {
		snprintf(msg, msg_size, "collect[] and exclude[] are mutually exclusive");
		return -EINVAL;
	}
	if ((collect && collect[0]) || (exclude && exclude[0])) {
		const char *const *names = collect && collect[0] ? collect : exclude;
		bool in = names == collect;

		for (unsigned i = 0; i < node_ncollectors && i < 64; i++)
			want[i] = !in;
		for (unsigned i = 0; names[i]; i++) {
			int idx = node_collector_index(names[i]);

			if (idx < 0 || !node_collector_enabled((unsigned)idx)) {
				snprintf(msg, msg_size,
					 "couldn't create filtered metrics handler: missing collector: "
					 "%s",
					 names[i]);
				return -ENOENT;
			}
			want[idx] = in;
		}
		w = want;
	}
	write_build_info(b);
	err = node_scrape(b, w);
	if (err)
		return err;
	err = prom_collect_sources(b);
	if (err == -ENOMEM)
		return err;
	if (!prom_cfg.no_exporter_metrics)
		prom_write_process(b, node_cfg.procfs ? node_cfg.procfs : "/proc");
	return b->err;
}

/* ---- HTTP ---- */

struct args {
	const char *collect[65], *exclude[65];
	unsigned nc, ne;
};

static enum MHD_Result arg_iter(void *cls, enum MHD_ValueKind kind, const char *key,
				const char *value)
{
	struct args *a = cls;

	(void)kind;
	if (!value)
		return MHD_YES;
	if (strcmp(key, "collect[]") == 0 && a->nc < 64)
		a->collect[a->nc++] = value;
	else if (strcmp(key, "exclude[]") == 0 && a->ne < 64)
		a->exclude[a->ne++] = value;
	return MHD_YES;
}

/* Accept-Encoding lists gzip (or *) with a non-zero q */
static bool accepts_gzip(const char *ae)
{
	char buf[256], *tok, *save = NULL;

	if (!ae)
		return false;
	snprintf(buf, sizeof(buf), "%s", ae);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *q = strchr(tok, ';'), *end;

		while (*tok == ' ' || *tok == '\t')
			tok++;
		end = q ? q : tok + strlen(tok);
		while (end > tok && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (!((end - tok == 4 && !strncasecmp(tok, "gzip", 4)) ||
		      (end - tok == 1 && *tok == '*')))
			continue;
		if (q && (q = strstr(q, "q=")) && strtod(q + 2, NULL) == 0)
			return false;
		return true;
	}
	return false;
}

/*
 * gzip at level 1 with libdeflate: 0.06 ms for a 67 kB scrape where zlib takes 0.22 ms at its
 * level 1 (18.3% of the size) and 0.62 ms at level 6, Go's default that node_exporter uses
 * (16.1%); libdeflate's level 1 gives 17.2%. The compressor (its hash tables) is kept.
 */
static int gzip_encode(const char *src, size_t len, size_t *out_len)
{
	size_t bound;

	if (!gz_comp) {
		gz_comp = libdeflate_alloc_compressor(1);
		if (!gz_comp)
			return -ENOMEM;
	}
	bound = libdeflate_gzip_compress_bound(gz_comp, len);
	if (bound > gz_cap) {
		unsigned char *p = realloc(gz, bound);

		if (!p)
			return -ENOMEM;
		gz = p;
		gz_cap = bound;
	}
	*out_len = libdeflate_gzip_compress(gz_comp, src, len, gz, gz_cap);
	return *out_len ? 0 : -EIO;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type,
			     const void *body, size_t len, bool gzipped)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (gzipped)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle_metrics(struct MHD_Connection *c)
{
	static const char ctype[] = "text/plain; version=0.0.4; charset=utf-8";
	struct args a = { 0 };
	char msg[256] = "";
	size_t zlen;
	int err;

	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, arg_iter, &a);
	prom_buf_reset(&out);
	err = prom_scrape(&out, a.nc ? a.collect : NULL, a.ne ? a.exclude : NULL, msg,
			  sizeof(msg));
	if (err == -ENOENT || err == -EINVAL) {
		log_warn("prom: %s", msg);
		return reply(c, MHD_HTTP_BAD_REQUEST, "text/plain; charset=utf-8", msg, strlen(msg),
			     false);
	}
	if (err) {
		snprintf(msg, sizeof(msg), "error gathering metrics: %s\n", strerror(-err));
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8", msg,
			     strlen(msg), false);
	}
	if (accepts_gzip(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_ACCEPT_ENCODING)) &&
	    gzip_encode(out.data, out.len, &zlen) == 0)
		return reply(c, MHD_HTTP_OK, ctype, gz, zlen, true);
	return reply(c, MHD_HTTP_OK, ctype, out.data ? out.data : "", out.len, false);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	static int first_call_marker;
	char page[1024];
	int n;

	(void)cls, (void)version, (void)upload;
	if (!*con_cls) {
		/* headers only so far: answer on the next call */
		*con_cls = &first_call_marker;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0; /* a body is not expected; ignore it */
		return MHD_YES;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
			     "method not allowed\n", 19, false);
	if (strcmp(url, prom_cfg.path) == 0)
		return handle_metrics(c);
	if (strcmp(url, "/") == 0) {
		n = snprintf(page, sizeof(page),
			     "<html>\n<head><title>o11y-ebpf</title></head>\n<body>\n"
			     "<h1>o11y-ebpf %s</h1>\n<p><a href=\"%s\">Metrics</a></p>\n"
			     "</body>\n</html>\n",
			     O11Y_VERSION, prom_cfg.path);
		return reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", page, (size_t)n, false);
	}
	return reply(c, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", "404 page not found\n", 19,
		     false);
}

int prom_parse_listen(const char *addr, char *host, size_t host_size, char *port,
		      size_t port_size)
{
	const char *colon, *h = addr;
	size_t hlen;

	if (!addr)
		return -EINVAL;
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		h = addr + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon || memchr(addr, ':', (size_t)(colon - addr)))
			return -EINVAL; /* a bare IPv6 address needs brackets */
		hlen = (size_t)(colon - addr);
	}
	if (!colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    atoi(colon + 1) > 65535 || hlen >= host_size || strlen(colon + 1) >= port_size)
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	snprintf(port, port_size, "%s", colon + 1);
	return 0;
}

/* Binds and listens ourselves, so "address in use" is reported with its errno. */
static int open_listener(const char *addr)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256], port[16], shown[300], ip[INET6_ADDRSTRLEN];
	int fd = -1, one = 1, zero = 0, err;

	if (prom_parse_listen(addr, host, sizeof(host), port, sizeof(port))) {
		log_error("prom: --web.listen-address: '%s' is not host:port, :port or [addr]:port",
			  addr);
		return -EINVAL;
	}
	/* ":port" listens on every address, IPv6 and IPv4 alike, like node_exporter */
	hints.ai_family = *host ? AF_UNSPEC : AF_INET6;
	err = getaddrinfo(*host ? host : NULL, port, &hints, &res);
	if (err && !*host) {
		hints.ai_family = AF_INET;
		err = getaddrinfo(NULL, port, &hints, &res);
	}
	if (err) {
		log_error("prom: cannot resolve %s: %s", addr, gai_strerror(err));
		return -EINVAL;
	}
	err = -EADDRNOTAVAIL;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			err = -errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6 && !*host)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 64) == 0)
			break;
		err = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		log_error("prom: cannot listen on %s: %s%s", addr, strerror(-err),
			  err == -EADDRINUSE ? " (is node_exporter or another agent running?)" : "");
		return err;
	}
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(shown, sizeof(shown), "[%s]:%u", ip, ntohs(s6->sin6_port));
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(shown, sizeof(shown), "%s:%u", ip, ntohs(s4->sin_port));
	}
	log_info("prom: serving %s on http://%s%s", prom_cfg.path, shown, prom_cfg.path);
	return fd;
}

int prom_server_start(void)
{
	sigset_t all, old;
	int err;

	if (!prom_cfg.path || prom_cfg.path[0] != '/') {
		log_error("prom: --web.telemetry-path must start with '/'");
		return -EINVAL;
	}
	err = node_init();
	if (err)
		return err;
	err = prom_register_source("agent counters", stats_write, NULL);
	if (err)
		goto err_node;
	listen_fd = open_listener(prom_cfg.listen);
	if (listen_fd < 0) {
		err = listen_fd;
		goto err_node;
	}
	/* the server thread inherits a full signal mask: SIGINT/SIGTERM stay with main's signalfd */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
					   MHD_USE_ERROR_LOG,
				   0, NULL, NULL, on_request, NULL, MHD_OPTION_LISTEN_SOCKET,
				   listen_fd, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
				   MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!daemon_) {
		log_error("prom: libmicrohttpd did not start on %s", prom_cfg.listen);
		err = -EIO;
		goto err_close;
	}
	listen_fd = -1; /* libmicrohttpd owns and closes it now */
	return 0;

err_close:
	close(listen_fd);
	listen_fd = -1;
err_node:
	node_fini();
	return err;
}

void prom_server_stop(void)
{
	if (daemon_) {
		MHD_stop_daemon(daemon_);
		daemon_ = NULL;
		node_fini();
	}
	if (listen_fd >= 0) {
		close(listen_fd);
		listen_fd = -1;
	}
	prom_buf_free(&out);
	free(gz);
	gz = NULL;
	gz_cap = 0;
	libdeflate_free_compressor(gz_comp);
	gz_comp = NULL;
}
