// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The Kubernetes API thread (see k8s.h): list, then watch, the pods of this node; keep the pod
 * table that k8s_span_fill() reads. Threads: the API thread owns every curl handle and the
 * ReplicaSet cache; the table pointer and the table are shared under K.lock, held only to read
 * or change the table.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "k8s.h"
#include "k8s_meta.h"
#include "log.h"
#include "proc.h"
#include "prom.h"

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define LIST_MAX_BYTES (64u << 20)  /* one list page; pages hold --kube-page-size pods */
#define EVENT_MAX_BYTES (4u << 20)  /* one watch event: one pod object */
#define WATCH_TIMEOUT_S 240         /* asked of the server; it ends the watch, we resume */
#define BACKOFF_MAX_S 30
#define RS_CACHE 256

static const char *const mode_choices[] = { "auto", "off", NULL };

static struct {
	int mode; /* 0 auto, 1 off */
	char *node, *api_url, *token_file, *ca_file;
	long long max_pods, page_size;
} cfg;

static const struct opt k8s_opts[] = {
	{ .name = "kube-metadata", .env = "O11Y_KUBE_METADATA", .type = OPT_ENUM, .dst = &cfg.mode,
	  .def = "auto", .choices = mode_choices, .metavar = "MODE",
	  .help = "Kubernetes pod metadata on spans and RED metrics: auto (on when a node name "
		  "and an API server are known) or off" },
	{ .name = "node-name", .env = "NODE_NAME", .type = OPT_STR, .dst = &cfg.node,
	  .metavar = "NAME",
	  .help = "this node's Kubernetes name (the DaemonSet sets it from spec.nodeName)" },
	{ .name = "kube-api-url", .env = "O11Y_KUBE_API_URL", .type = OPT_STR, .dst = &cfg.api_url,
	  .metavar = "URL",
	  .help = "API server; default https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT" },
	{ .name = "kube-token-file", .env = "O11Y_KUBE_TOKEN_FILE", .type = OPT_STR,
	  .dst = &cfg.token_file, .def = SA_DIR "/token", .metavar = "FILE",
	  .help = "bearer token, re-read for every request (projected tokens rotate)" },
	{ .name = "kube-ca-file", .env = "O11Y_KUBE_CA_FILE", .type = OPT_STR, .dst = &cfg.ca_file,
	  .def = SA_DIR "/ca.crt", .metavar = "FILE",
	  .help = "CA bundle that verifies the API server (system CAs when the file is missing)" },
	{ .name = "kube-max-pods", .env = "O11Y_KUBE_MAX_PODS", .type = OPT_INT,
	  .dst = &cfg.max_pods, .def = "512", .min = 1, .max = 100000, .metavar = "N",
	  .help = "pods kept in the cache (about 3 KiB each); more are counted and left out" },
	{ .name = "kube-page-size", .env = "O11Y_KUBE_PAGE_SIZE", .type = OPT_INT,
	  .dst = &cfg.page_size, .def = "100", .min = 1, .max = 10000, .metavar = "N",
	  .help = "pods per list request (limit=)" },
};
const struct opt_table k8s_opt_table = { "Kubernetes metadata", k8s_opts,
					 sizeof(k8s_opts) / sizeof(k8s_opts[0]) };

struct rs_ent {
	char key[SPAN_K8S_LABEL_MAX + SPAN_K8S_NAME_MAX]; /* namespace/name */
	char deployment[SPAN_K8S_NAME_MAX];               /* "" when it has none */
};

static struct {
	bool running;
	pthread_t thread;
	pthread_mutex_t lock; /* the table: K.pods and what it points to */
	struct k8s_pods *pods;
	pthread_mutex_t wait_lock;
	pthread_cond_t wait_cond;
	int stop;
	char base[1024]; /* API server URL without a trailing '/' */
	char *node_esc;  /* node name, URL-escaped */
	CURL *curl;    /* list and watch */
	CURL *curl_rs; /* ReplicaSet gets, made from inside the watch's write callback */
	struct rs_ent rs[RS_CACHE];
	unsigned rs_next;
	uint64_t api_errors, events, dropped, relists;
	int synced;
	bool warned_full;
} K = { .lock = PTHREAD_MUTEX_INITIALIZER,
	.wait_lock = PTHREAD_MUTEX_INITIALIZER,
	.wait_cond = PTHREAD_COND_INITIALIZER };

static bool stopping(void)
{
	return __atomic_load_n(&K.stop, __ATOMIC_ACQUIRE);
}

static void count(uint64_t *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

/* ---- main thread ---------------------------------------------------------------------- */

void k8s_span_fill(struct http_span *s)
{
	const struct proc_info *p = proc_lookup(s->pid);

	if (!p)
		return;
	if (!K.running) {
		k8s_pods_fill(NULL, &p->cg, p->service_from_env, s);
		return;
	}
	pthread_mutex_lock(&K.lock);
	k8s_pods_fill(K.pods, &p->cg, p->service_from_env, s);
	pthread_mutex_unlock(&K.lock);
}

/* ---- HTTP ----------------------------------------------------------------------------- */

struct body {
	char *data;
	size_t len, max;
	bool too_big;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct body *b = ud;
	size_t n = size * nmemb;
	char *p;

	if (b->len + n > b->max) {
		b->too_big = true;
		return 0;
	}
	p = realloc(b->data, b->len + n + 1);
	if (!p)
		return 0;
	memcpy(p + b->len, ptr, n);
	b->data = p;
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* libcurl calls it about once a second even when idle: a stop aborts the transfer */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	return stopping();
}

/* "Authorization: Bearer <token>", or NULL when there is no token file */
static struct curl_slist *auth_header(void)
{
	char buf[16384], hdr[16384 + 32];
	struct curl_slist *h = NULL;
	ssize_t n;
	int fd;

	fd = open(cfg.token_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return curl_slist_append(NULL, "Accept: application/json");
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		n--;
	buf[n > 0 ? n : 0] = '\0';
	h = curl_slist_append(NULL, "Accept: application/json");
	if (h && buf[0]) {
		snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", buf);
		h = curl_slist_append(h, hdr);
	}
	return h;
}

/*
 * GET base+path. write/ud receive the body; timeout_s bounds the whole transfer. Returns the
 * HTTP status, or -EIO (transport error, logged at debug), -EINTR (stopping), -ENOMEM.
 */
static long http_get(CURL *c, const char *path, curl_write_callback write, void *ud,
		     long timeout_s)
{
	char url[4096], err[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = auth_header();
	long status = 0;
	CURLcode rc;

	if (!hdrs)
		return -ENOMEM;
	snprintf(url, sizeof(url), "%s%s", K.base, path);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, ud);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 10L);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	if (cfg.ca_file && access(cfg.ca_file, R_OK) == 0)
		curl_easy_setopt(c, CURLOPT_CAINFO, cfg.ca_file);
	rc = curl_easy_perform(c);
	curl_slist_free_all(hdrs);
	if (rc == CURLE_ABORTED_BY_CALLBACK && stopping())
		return -EINTR;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	/* a watch ends when its write callback stops it: the status is still the server's */
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && status == 200)) {
		log_debug("k8s: GET %s: %s", path, err[0] ? err : curl_easy_strerror(rc));
		return -EIO;
	}
	return status;
}

/* ---- owners --------------------------------------------------------------------------- */

/* Sets a ReplicaSet pod's Deployment: from the cache, the API, else from the names. */
static void resolve_owner(struct k8s_pod *p)
{
	char key[sizeof(K.rs[0].key)], path[1024], *ns, *name;
	struct body b = { .max = EVENT_MAX_BYTES };
	struct rs_ent *e;
	long status;

	if (p->owner_kind != SPAN_K8S_REPLICASET || !p->owner_name[0])
		return;
	snprintf(key, sizeof(key), "%s/%s", p->namespace_name, p->owner_name);
	for (unsigned i = 0; i < RS_CACHE; i++) {
		if (strcmp(K.rs[i].key, key) == 0) {
			e = &K.rs[i];
			goto found;
		}
	}
	ns = curl_easy_escape(K.curl_rs, p->namespace_name, 0);
	name = curl_easy_escape(K.curl_rs, p->owner_name, 0);
	snprintf(path, sizeof(path), "/apis/apps/v1/namespaces/%s/replicasets/%s", ns ? ns : "",
		 name ? name : "");
	curl_free(ns);
	curl_free(name);
	status = http_get(K.curl_rs, path, on_body, &b, 10);
	if (status == 200 || status == 404) {
		/* 404: gone already; remember it has no Deployment we can name */
		e = &K.rs[K.rs_next++ % RS_CACHE];
		snprintf(e->key, sizeof(e->key), "%s", key);
		e->deployment[0] = '\0';
		if (status == 200 && b.data)
			k8s_rs_owner_parse(b.data, b.len, e->deployment, sizeof(e->deployment));
		free(b.data);
		if (status == 404)
			k8s_pod_guess_deployment(p);
		else
			goto found;
		return;
	}
	free(b.data);
	if (status != -EINTR) {
		count(&K.api_errors);
		log_debug("k8s: GET replicaset %s: status %ld; naming its Deployment from the "
			  "pod-template-hash label", key, status);
	}
	k8s_pod_guess_deployment(p);
	return;
found:
	if (e->deployment[0]) {
		p->top_kind = SPAN_K8S_DEPLOYMENT;
		snprintf(p->top_name, sizeof(p->top_name), "%s", e->deployment);
	}
}

/* ---- list and watch ------------------------------------------------------------------- */

static void table_put(struct k8s_pods *t, const struct k8s_pod *p)
{
	if (k8s_pods_put(t, p) == -ENOSPC) {
		count(&K.dropped);
		if (!K.warned_full) {
			log_warn("k8s: pod cache full (--kube-max-pods=%lld): pod %s/%s and later "
				 "ones get no metadata",
				 cfg.max_pods, p->namespace_name, p->name);
			K.warned_full = true;
		}
	}
}

static int put_new(void *ctx, const struct k8s_pod *p)
{
	table_put(ctx, p);
	return 0;
}

/* Lists every page into a new table, then swaps it in: pods not listed are forgotten. */
static int relist(char rv[K8S_RV_MAX])
{
	struct k8s_pods *t = k8s_pods_new((unsigned)cfg.max_pods), *old;
	char cont[1024] = "", path[2048];
	int err = 0;

	if (!t)
		return -ENOMEM;
	K.warned_full = false;
	do {
		struct body b = { .max = LIST_MAX_BYTES };
		char *ce = curl_easy_escape(K.curl, cont, 0);
		long status;
		int n;

		snprintf(path, sizeof(path),
			 "/api/v1/pods?fieldSelector=spec.nodeName%%3D%s&limit=%lld%s%s", K.node_esc,
			 cfg.page_size, cont[0] ? "&continue=" : "", cont[0] && ce ? ce : "");
		curl_free(ce);
		status = http_get(K.curl, path, on_body, &b, 30);
		if (status != 200) {
			if (status > 0)
				log_debug("k8s: list pods: HTTP status %ld%s", status,
					  b.too_big ? " (page too big)" : "");
			free(b.data);
			err = status == -EINTR ? -EINTR : -EIO;
			goto out;
		}
		n = k8s_list_parse(b.data ? b.data : "", b.len, put_new, t, rv, cont,
				   sizeof(cont));
		free(b.data);
		if (n < 0) {
			log_debug("k8s: list pods: not a PodList");
			err = -EIO;
			goto out;
		}
	} while (cont[0] && !stopping());
	for (unsigned i = 0; i < t->n; i++)
		resolve_owner(t->v[i]);
	pthread_mutex_lock(&K.lock);
	old = K.pods;
	K.pods = t;
	pthread_mutex_unlock(&K.lock);
	t = old;
	count(&K.relists);
out:
	k8s_pods_free(t);
	return err;
}

struct watch {
	char rv[K8S_RV_MAX];
	char *line;
	size_t len;
	bool gone; /* 410: resourceVersion too old, relist */
	bool bad;  /* an event too big or not JSON */
	struct k8s_pod pod;
};

static void watch_event(struct watch *w, const char *line, size_t len)
{
	int code = 0, type = k8s_event_parse(line, len, &w->pod, w->rv, &code);

	count(&K.events);
	switch (type) {
	case K8S_EV_ADDED:
	case K8S_EV_MODIFIED:
		resolve_owner(&w->pod);
		pthread_mutex_lock(&K.lock);
		table_put(K.pods, &w->pod);
		pthread_mutex_unlock(&K.lock);
		break;
	case K8S_EV_DELETED:
		pthread_mutex_lock(&K.lock);
		k8s_pods_del(K.pods, w->pod.uid);
		pthread_mutex_unlock(&K.lock);
		break;
	case K8S_EV_BOOKMARK:
		break;
	case K8S_EV_ERROR:
		log_debug("k8s: watch error event, code %d", code);
		if (code == 410)
			w->gone = true;
		else
			w->bad = true;
		break;
	default:
		w->bad = true;
		break;
	}
}

/* Newline-delimited JSON events; a partial line waits for the rest. */
static size_t on_watch(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct watch *w = ud;
	size_t n = size * nmemb;
	char *nl, *p;

	if (w->len + n > EVENT_MAX_BYTES) {
		w->bad = true;
		return 0;
	}
	p = realloc(w->line, w->len + n + 1);
	if (!p)
		return 0;
	w->line = p;
	memcpy(w->line + w->len, ptr, n);
	w->len += n;
	w->line[w->len] = '\0';
	while ((nl = memchr(w->line, '\n', w->len))) {
		size_t k = (size_t)(nl - w->line);

		if (k)
			watch_event(w, w->line, k);
		memmove(w->line, nl + 1, w->len - k - 1);
		w->len -= k + 1;
		if (w->gone || w->bad)
			return 0; /* ends the transfer */
	}
	return n;
}

/* Watches from rv until the server ends the watch. 0: resume from rv; -ESTALE: relist. */
static int watch(char rv[K8S_RV_MAX])
{
	struct watch *w = calloc(1, sizeof(*w));
	char path[2048], *rve;
	long status;
	int err = 0;

	if (!w)
		return -ENOMEM;
	snprintf(w->rv, sizeof(w->rv), "%s", rv);
	rve = curl_easy_escape(K.curl, rv, 0);
	snprintf(path, sizeof(path),
		 "/api/v1/pods?fieldSelector=spec.nodeName%%3D%s&watch=1&allowWatchBookmarks=true"
		 "&timeoutSeconds=%d&resourceVersion=%s",
		 K.node_esc, WATCH_TIMEOUT_S, rve ? rve : "");
	curl_free(rve);
	status = http_get(K.curl, path, on_watch, w, WATCH_TIMEOUT_S + 30);
	snprintf(rv, K8S_RV_MAX, "%s", w->rv);
	if (status == -EINTR)
		err = -EINTR;
	else if (w->gone || status == 410)
		err = -ESTALE;
	else if (status != 200 || w->bad)
		err = -EIO;
	if (err == -EIO)
		log_debug("k8s: watch pods: status %ld%s", status, w->bad ? ", bad event" : "");
	free(w->line);
	free(w);
	return err;
}

/* Sleeps s seconds or until stopped. */
static void pause_s(unsigned s)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += s;
	pthread_mutex_lock(&K.wait_lock);
	while (!stopping() &&
	       pthread_cond_timedwait(&K.wait_cond, &K.wait_lock, &ts) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&K.wait_lock);
}

static void *api_thread(void *arg)
{
	char rv[K8S_RV_MAX] = "";
	unsigned backoff = 1, failures = 0;

	(void)arg;
	while (!stopping()) {
		int err = relist(rv);

		if (err == -EINTR)
			break;
		if (err) {
			count(&K.api_errors);
			/* once at warn, then at debug: the API may be down for long */
			if (failures++ == 0)
				log_warn("k8s: cannot list the pods of node %s from %s; retrying "
					 "(spans go out without pod metadata meanwhile)",
					 cfg.node, K.base);
			pause_s(backoff);
			backoff = backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : backoff * 2;
			continue;
		}
		if (failures || !__atomic_load_n(&K.synced, __ATOMIC_RELAXED))
			log_info("k8s: %u pod(s) on node %s", K.pods->n, cfg.node);
		failures = 0;
		backoff = 1;
		__atomic_store_n(&K.synced, 1, __ATOMIC_RELAXED);
		/* watch from the list's version until it is too old or the server fails */
		while (!stopping() && (err = watch(rv)) == 0)
			;
		if (err == -EINTR)
			break;
		if (err == -EIO) {
			count(&K.api_errors);
			pause_s(1);
		}
	}
	return NULL;
}

/* ---- /metrics ------------------------------------------------------------------------- */

static int prom_write(struct prom_buf *b, void *ctx)
{
	unsigned n;

	(void)ctx;
	pthread_mutex_lock(&K.lock);
	n = K.pods ? K.pods->n : 0;
	pthread_mutex_unlock(&K.lock);
	prom_family(b, "o11y_ebpf_k8s_pods", "gauge", "Pods of this node in the metadata cache.");
	prom_sample(b, "o11y_ebpf_k8s_pods", NULL, n);
	prom_family(b, "o11y_ebpf_k8s_synced", "gauge",
		    "1 once the pods of this node were listed from the API server.");
	prom_sample(b, "o11y_ebpf_k8s_synced", NULL, __atomic_load_n(&K.synced, __ATOMIC_RELAXED));
	prom_family(b, "o11y_ebpf_k8s_api_errors_total", "counter",
		    "Kubernetes API requests that failed (list, watch, replicaset).");
	prom_sample(b, "o11y_ebpf_k8s_api_errors_total", NULL,
		    __atomic_load_n(&K.api_errors, __ATOMIC_RELAXED));
	prom_family(b, "o11y_ebpf_k8s_watch_events_total", "counter", "Pod watch events read.");
	prom_sample(b, "o11y_ebpf_k8s_watch_events_total", NULL,
		    __atomic_load_n(&K.events, __ATOMIC_RELAXED));
	prom_family(b, "o11y_ebpf_k8s_pods_dropped_total", "counter",
		    "Pods left out of a full cache (--kube-max-pods).");
	prom_sample(b, "o11y_ebpf_k8s_pods_dropped_total", NULL,
		    __atomic_load_n(&K.dropped, __ATOMIC_RELAXED));
	return b->err;
}

/* ---- start and stop ------------------------------------------------------------------- */

int k8s_start(void)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	int err;

	if (cfg.mode == 1) {
		log_info("k8s: pod metadata off (--kube-metadata=off)");
		return 0;
	}
	if (cfg.api_url && cfg.api_url[0])
		snprintf(K.base, sizeof(K.base), "%s", cfg.api_url);
	else if (host && host[0])
		snprintf(K.base, sizeof(K.base), strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s",
			 host, port && port[0] ? port : "443");
	if (!cfg.node || !cfg.node[0] || !K.base[0]) {
		log_info("k8s: pod metadata off: %s", !K.base[0] ?
			 "not in a cluster (no KUBERNETES_SERVICE_HOST, no --kube-api-url)" :
			 "no node name (NODE_NAME, --node-name)");
		return 0;
	}
	while (K.base[0] && K.base[strlen(K.base) - 1] == '/')
		K.base[strlen(K.base) - 1] = '\0';
	err = -ENOMEM;
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		goto out;
	K.curl = curl_easy_init();
	K.curl_rs = curl_easy_init();
	if (!K.curl || !K.curl_rs)
		goto out_free;
	K.node_esc = curl_easy_escape(K.curl, cfg.node, 0);
	K.pods = k8s_pods_new((unsigned)cfg.max_pods);
	if (!K.node_esc || !K.pods)
		goto out_free;
	err = prom_register_source("k8s", prom_write, NULL);
	if (err)
		goto out_free;
	err = -pthread_create(&K.thread, NULL, api_thread, NULL);
	if (err)
		goto out_free;
	K.running = true;
	log_info("k8s: pod metadata from %s for node %s (cache of %lld pods)", K.base, cfg.node,
		 cfg.max_pods);
	return 0;
out_free:
	curl_free(K.node_esc);
	K.node_esc = NULL;
	k8s_pods_free(K.pods);
	K.pods = NULL;
	curl_easy_cleanup(K.curl);
	curl_easy_cleanup(K.curl_rs);
	K.curl = K.curl_rs = NULL;
	curl_global_cleanup();
out:
	log_error("k8s: cannot start the metadata thread: %s", strerror(-err));
	return err;
}

void k8s_stop(void)
{
	if (!K.running)
		return;
	pthread_mutex_lock(&K.wait_lock);
	__atomic_store_n(&K.stop, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&K.wait_cond);
	pthread_mutex_unlock(&K.wait_lock);
	pthread_join(K.thread, NULL);
	K.running = false;
	curl_free(K.node_esc);
	K.node_esc = NULL;
	curl_easy_cleanup(K.curl);
	curl_easy_cleanup(K.curl_rs);
	K.curl = K.curl_rs = NULL;
	curl_global_cleanup();
	pthread_mutex_lock(&K.lock);
	k8s_pods_free(K.pods);
	K.pods = NULL;
	pthread_mutex_unlock(&K.lock);
}
