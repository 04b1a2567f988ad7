// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * o11y-ebpf: the agent's main thread. One epoll loop owns the BPF ring buffer, the span
 * assembly and the drain timer; exporters and the /metrics server run in their own threads
 * and take plain data (see README "Design").
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "config.h"
#include "export_otlp.h"
#include "export_prom.h"
#include "host_metrics.h"
#include "http_assemble.h"
#include "k8s.h"
#include "loader.h"
#include "log.h"
#include "pagecache.h"
#include "proc.h"
#include "prom.h"
#include "red.h"
#include "route.h"
#include "span_print.h"
#include "stats.h"

struct agent {
	struct http_capture *cap;
	struct http_asm *asm_;
	int epfd, sigfd, timerfd;
};

/* Every finished span goes to each consumer, in the main thread. */
static void on_span(const struct http_span *s, void *ctx)
{
	static struct http_span c; /* consumers get the span with its route (main thread only) */

	(void)ctx;
	span_copy(&c, s);
	stats_add(STAT_SPANS, 1);
	/* hook: span consumers (RED metrics, OTLP export) */
	k8s_span_fill(&c); /* first: it may set service.name, which routes and RED key on */
	route_fill(&c);
	if (agent_cfg.print_spans != PRINT_SPANS_OFF)
		span_print(stdout, &c, agent_cfg.print_spans == PRINT_SPANS_JSON);
	red_record(&c);
	otlp_submit(&c);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct agent *a = ctx;

	stats_add(STAT_EVENTS, 1);
	return http_asm_event(a->asm_, data, size);
}

static int conn_state(void *ctx, uint64_t conn_id, uint64_t *last_send_ts, uint64_t *resp_bytes)
{
	struct agent *a = ctx;

	return http_capture_conn(a->cap, conn_id, last_send_ts, resp_bytes);
}

/* The page-cache record of a request that ends (user/pagecache.h). */
static void span_pagecache(void *ctx, uint64_t conn_id, uint64_t req_ts, uint64_t end_mono,
			   struct http_span *s)
{
	static struct o11y_pc_req r; /* main thread only */
	static struct o11y_pc_path paths[O11Y_PC_REQ_FILES];

	(void)ctx;
	if (!pagecache_running())
		return;
	if (pagecache_req_take(conn_id, req_ts, end_mono, &r, paths) == 0)
		pc_req_to_span(&r, paths, s);
	else
		s->has_page_cache = true; /* measured: no file read through the page cache */
}

static int setup_fds(struct agent *a)
{
	struct itimerspec its = {0};
	struct epoll_event ev = {.events = EPOLLIN};
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	a->sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	a->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a->sigfd < 0 || a->timerfd < 0 || a->epfd < 0)
		return -errno;
	its.it_interval.tv_nsec = agent_cfg.drain_ms % 1000 * 1000000;
	its.it_interval.tv_sec = agent_cfg.drain_ms / 1000;
	its.it_value = its.it_interval;
	if (timerfd_settime(a->timerfd, 0, &its, NULL))
		return -errno;
	ev.data.fd = a->sigfd;
	if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, a->sigfd, &ev))
		return -errno;
	ev.data.fd = a->timerfd;
	if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, a->timerfd, &ev))
		return -errno;
	if (a->cap) {
		ev.data.fd = http_capture_epoll_fd(a->cap);
		if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev))
			return -errno;
	}
	return 0;
}

static void drain(struct agent *a)
{
	int err;

	pagecache_tick(proc_mono_ns());
	if (!a->cap)
		return;
	pagecache_reqs_begin(); /* the requests' page-cache records, read in one go */
	err = http_capture_poll(a->cap);
	if (err < 0)
		log_warn("http: ring buffer consume failed: %s", strerror(-err));
	http_asm_tick(a->asm_, proc_mono_ns());
	pagecache_reqs_end(); /* the records taken, deleted in one go */
}

static int run_loop(struct agent *a)
{
	struct epoll_event evs[4];
	bool stop = false;

	while (!stop) {
		int n = epoll_wait(a->epfd, evs, 4, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("epoll_wait: %s", strerror(errno));
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == a->sigfd) {
				struct signalfd_siginfo si;

				if (read(fd, &si, sizeof(si)) == sizeof(si))
					log_info("received signal %u, finishing", si.ssi_signo);
				stop = true;
			} else if (fd == a->timerfd) {
				uint64_t ticks;

				if (read(fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
					log_warn("timerfd read: %s", strerror(errno));
				drain(a);
			} else {
				drain(a);
			}
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct agent a = {.epfd = -1, .sigfd = -1, .timerfd = -1};
	enum log_level lvl;
	sigset_t mask;
	int err, ret = 1;

	/*
	 * SIGINT and SIGTERM are read from a signalfd by the main loop: block them before any
	 * thread starts (exporters, /metrics), so every thread inherits the mask.
	 */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	err = config_parse(argc, argv);
	if (err)
		return err > 0 ? 0 : 2;
	if (log_parse_level(agent_cfg.log_level, &lvl)) {
		fprintf(stderr,
			"o11y-ebpf: --log-level: '%s' is not one of error, warn, info, debug\n",
			agent_cfg.log_level);
		config_free();
		return 2;
	}
	if (agent_cfg.ringbuf_kib & (agent_cfg.ringbuf_kib - 1)) {
		fprintf(stderr, "o11y-ebpf: --ring-buffer-kib: %lld is not a power of two\n",
			agent_cfg.ringbuf_kib);
		config_free();
		return 2;
	}
	log_current_level = lvl;
	log_info("o11y-ebpf %s starting (pid %d)", O11Y_VERSION, getpid());
	config_log();
	proc_init(agent_cfg.exe_names.n ? &agent_cfg.exe_names : NULL);

	err = loader_check_privileges();
	if (err)
		goto out;

	if (agent_cfg.http_capture != CAPTURE_OFF) {
		a.asm_ = http_asm_new(on_span, &a, conn_state, &a);
		if (!a.asm_) {
			log_error("http: cannot allocate span assembly: %s", strerror(errno));
			goto out;
		}
		a.cap = http_capture_open(on_event, &a);
		if (!a.cap)
			goto out;
	} else {
		log_info("http: capture off (--http-capture=off)");
	}
	/* hook: start metric sources and exporters */
	err = k8s_start(); /* first: curl_global_init before any other thread uses libcurl */
	if (!err)
		err = route_init();
	if (!err)
		err = red_init();
	if (!err)
		err = otlp_start();
	if (err)
		goto out;
	/* host metrics are an extra: a kernel that refuses them still gets spans and node metrics
	 */
	if (host_metrics_start())
		log_warn("host: eBPF host metrics off; see the messages above");
	if (pagecache_start(a.cap))
		log_warn("pagecache: page-cache metrics off; see the messages above");
	else if (a.asm_)
		http_asm_set_pagecache(a.asm_, span_pagecache, &a);
	err = prom_server_start(); /* last: every metric source is registered by now */
	if (err)
		goto out;
	err = setup_fds(&a);
	if (err) {
		log_error("cannot set up the event loop: %s", strerror(-err));
		goto out;
	}
	log_info("running; send SIGINT or SIGTERM to stop");
	if (run_loop(&a) == 0)
		ret = 0;

	/* finish what is in flight: drain the ring buffer, complete responses that were sent */
	drain(&a);
	if (a.asm_)
		http_asm_flush(a.asm_);
out:
	/* hook: stop exporters (they flush within their timeout) */
	prom_server_stop(); /* first: no scrape runs while sources are torn down */
	k8s_stop();
	otlp_stop();
	host_metrics_stop();
	pagecache_stop();
	if (a.cap)
		loader_log_lost(a.cap);
	http_capture_close(a.cap);
	http_asm_free(a.asm_);
	if (a.epfd >= 0)
		close(a.epfd);
	if (a.sigfd >= 0)
		close(a.sigfd);
	if (a.timerfd >= 0)
		close(a.timerfd);
	proc_fini();
	log_info("exiting with status %d", ret);
	config_free();
	return ret;
}
