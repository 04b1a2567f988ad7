// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Threads: the main thread only copies spans into the queue (otlp_submit); the exporter thread
 * owns everything else here (curl handles, gzip, the resource identity cache). Counters are
 * atomics read by the /metrics thread.
 */
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <zlib.h>

#include "export_otlp.h"
#include "log.h"
#include "otlp_collector_metrics.pb-c.h"
#include "otlp_collector_trace.pb-c.h"
#include "otlp_encode.h"
#include "pagecache.h"
#include "prom.h"
#include "red.h"

/* ---- configuration ---- */

struct otlp_cfg {
	char *endpoint, *traces_endpoint, *metrics_endpoint;
	char *headers, *traces_headers, *metrics_headers, *resource_attrs;
	char *protocol, *traces_protocol, *metrics_protocol;
	char *certificate, *client_certificate, *client_key;
	int compression; /* 0 gzip, 1 none */
	long long timeout_ms, metric_interval_ms;
	long long queue_size, schedule_delay_ms, batch_size, export_timeout_ms;
	int sampler;
	char *sampler_arg;
};
static struct otlp_cfg cfg;

static const char *const compression_choices[] = {"gzip", "none", NULL};
static const char *const sampler_choices[] = {"always_on",
					      "always_off",
					      "traceidratio",
					      "parentbased_always_on",
					      "parentbased_always_off",
					      "parentbased_traceidratio",
					      NULL};

static int set_str(const struct opt *o, const char *val)
{
	char **dst = o->dst;
	char *v = strdup(val);

	if (!v)
		return -ENOMEM;
	free(*dst);
	*dst = v;
	return 0;
}

static int parse_protocol(const struct opt *o, const char *key, const char *val, bool neg)
{
	if (!val || neg)
		return -EINVAL;
	if (strcmp(val, "http/protobuf") != 0) {
		fprintf(stderr,
			"o11y-ebpf: --%s=%s: this agent speaks only http/protobuf (OTLP over HTTP "
			"with protobuf bodies); grpc and http/json are not supported\n",
			key, val);
		return -EINVAL;
	}
	return set_str(o, val);
}

static int parse_kv_list(const struct opt *o, const char *key, const char *val, bool neg)
{
	struct otlp_kvs kvs;

	if (!val || neg)
		return -EINVAL;
	if (otlp_kvs_parse(val, &kvs)) {
		/* the value may hold credentials: do not echo it */
		fprintf(stderr,
			"o11y-ebpf: --%s: expected key=value,key2=value2 with "
			"percent-encoded special characters\n",
			key);
		return -EINVAL;
	}
	otlp_kvs_free(&kvs);
	return set_str(o, val);
}

static int parse_ratio(const struct opt *o, const char *key, const char *val, bool neg)
{
	char *end;
	double r;

	if (!val || neg)
		return -EINVAL;
	r = strtod(val, &end);
	if (end == val || *end || !(r >= 0 && r <= 1)) {
		fprintf(stderr, "o11y-ebpf: --%s: '%s' is not a ratio in [0, 1]\n", key, val);
		return -EINVAL;
	}
	return set_str(o, val);
}

#define OTLP_STR(n, e, d, m, h)                                                                    \
	{                                                                                          \
		.name = n, .env = e, .type = OPT_STR, .dst = d, .metavar = m, .help = h            \
	}
#define OTLP_INT(n, e, d, df, lo, hi, h)                                                           \
	{                                                                                          \
		.name = n, .env = e, .type = OPT_INT, .dst = d, .def = df, .min = lo, .max = hi,   \
		.metavar = "N", .help = h                                                          \
	}
#define OTLP_CUSTOM(n, e, d, df, fn, m, h)                                                         \
	{                                                                                          \
		.name = n, .env = e, .type = OPT_CUSTOM, .dst = d, .def = df, .parse = fn,         \
		.metavar = m, .help = h                                                            \
	}
#define OTLP_SECRET(n, e, d, h)                                                                    \
	{                                                                                          \
		.name = n, .env = e, .type = OPT_CUSTOM, .dst = d, .parse = parse_kv_list,         \
		.metavar = "K=V,...", .help = h, .flags = OPT_F_SECRET                             \
	}

static const struct opt otlp_opts[] = {
    OTLP_STR("otlp-endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT", &cfg.endpoint, "URL",
	     "OTLP/HTTP base URL; /v1/traces and /v1/metrics are appended (unset: no OTLP)"),
    OTLP_STR("otlp-traces-endpoint", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &cfg.traces_endpoint,
	     "URL", "full URL for spans, used as given"),
    OTLP_STR("otlp-metrics-endpoint", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", &cfg.metrics_endpoint,
	     "URL", "full URL for metrics, used as given"),
    OTLP_SECRET("otlp-headers", "OTEL_EXPORTER_OTLP_HEADERS", &cfg.headers,
		"request headers for both signals (percent-decoded; never logged)"),
    OTLP_SECRET("otlp-traces-headers", "OTEL_EXPORTER_OTLP_TRACES_HEADERS", &cfg.traces_headers,
		"extra headers for spans (win over the above)"),
    OTLP_SECRET("otlp-metrics-headers", "OTEL_EXPORTER_OTLP_METRICS_HEADERS", &cfg.metrics_headers,
		"extra headers for metrics (win over the above)"),
    OTLP_INT("otlp-timeout-ms", "OTEL_EXPORTER_OTLP_TIMEOUT", &cfg.timeout_ms, "10000", 1, 600000,
	     "time limit of one export request"),
    OTLP_CUSTOM("otlp-protocol", "OTEL_EXPORTER_OTLP_PROTOCOL", &cfg.protocol, "http/protobuf",
		parse_protocol, "PROTO", "only http/protobuf"),
    OTLP_CUSTOM("otlp-traces-protocol", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", &cfg.traces_protocol,
		NULL, parse_protocol, "PROTO", "only http/protobuf"),
    OTLP_CUSTOM("otlp-metrics-protocol", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
		&cfg.metrics_protocol, NULL, parse_protocol, "PROTO", "only http/protobuf"),
    {.name = "otlp-compression",
     .env = "OTEL_EXPORTER_OTLP_COMPRESSION",
     .type = OPT_ENUM,
     .dst = &cfg.compression,
     .def = "gzip",
     .choices = compression_choices,
     .metavar = "C",
     .help = "request body compression"},
    OTLP_STR("otlp-certificate", "OTEL_EXPORTER_OTLP_CERTIFICATE", &cfg.certificate, "FILE",
	     "CA bundle (PEM) that verifies the collector"),
    OTLP_STR("otlp-client-certificate", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
	     &cfg.client_certificate, "FILE", "client certificate (PEM) for mTLS"),
    OTLP_STR("otlp-client-key", "OTEL_EXPORTER_OTLP_CLIENT_KEY", &cfg.client_key, "FILE",
	     "client private key (PEM) for mTLS"),
    OTLP_CUSTOM("resource-attributes", "OTEL_RESOURCE_ATTRIBUTES", &cfg.resource_attrs, NULL,
		parse_kv_list, "K=V,...",
		"added to every resource (the agent's own keys such as service.name win)"),
    OTLP_INT("metric-export-interval-ms", "OTEL_METRIC_EXPORT_INTERVAL", &cfg.metric_interval_ms,
	     "60000", 100, 86400000, "RED metrics export period"),
    OTLP_INT("bsp-max-queue-size", "OTEL_BSP_MAX_QUEUE_SIZE", &cfg.queue_size, "2048", 1, 1000000,
	     "spans waiting for export; more are dropped and counted"),
    OTLP_INT("bsp-schedule-delay-ms", "OTEL_BSP_SCHEDULE_DELAY", &cfg.schedule_delay_ms, "5000", 1,
	     3600000, "longest wait before a partial batch is sent"),
    OTLP_INT("bsp-max-export-batch-size", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", &cfg.batch_size, "512",
	     1, 100000, "spans per export request"),
    OTLP_INT("bsp-export-timeout-ms", "OTEL_BSP_EXPORT_TIMEOUT", &cfg.export_timeout_ms, "30000", 1,
	     3600000, "time limit of one export including retries, and of the flush at exit"),
    {.name = "traces-sampler",
     .env = "OTEL_TRACES_SAMPLER",
     .type = OPT_ENUM,
     .dst = &cfg.sampler,
     .def = "parentbased_always_on",
     .choices = sampler_choices,
     .metavar = "S",
     .help = "which spans are exported (RED metrics count every request)"},
    OTLP_CUSTOM("traces-sampler-arg", "OTEL_TRACES_SAMPLER_ARG", &cfg.sampler_arg, "1.0",
		parse_ratio, "RATIO", "ratio for the traceidratio samplers"),
};
const struct opt_table otlp_opt_table = {"OTLP export", otlp_opts,
					 sizeof(otlp_opts) / sizeof(otlp_opts[0])};

/* ---- pure helpers ---- */

bool otlp_sample(enum otlp_sampler sampler, double ratio, const struct http_span *s)
{
	uint64_t x = 0, bound;

	switch (sampler) {
	case OTLP_SAMPLER_PARENT_ALWAYS_ON:
	case OTLP_SAMPLER_PARENT_ALWAYS_OFF:
	case OTLP_SAMPLER_PARENT_TRACEIDRATIO:
		if (s->has_parent)
			return s->trace_flags & 0x01;
		if (sampler == OTLP_SAMPLER_PARENT_ALWAYS_ON)
			return true;
		if (sampler == OTLP_SAMPLER_PARENT_ALWAYS_OFF)
			return false;
		__attribute__((fallthrough)); /* the root sampler */
	case OTLP_SAMPLER_TRACEIDRATIO:
		if (ratio >= 1)
			return true;
		if (ratio <= 0)
			return false;
		for (int i = 8; i < 16; i++)
			x = x << 8 | s->trace_id[i];
		bound = (uint64_t)(ratio * 9223372036854775808.0); /* ratio * 2^63 */
		return (x >> 1) < bound;
	case OTLP_SAMPLER_ALWAYS_OFF:
		return false;
	case OTLP_SAMPLER_ALWAYS_ON:
	default:
		return true;
	}
}

long long otlp_retry_after_ms(const char *v, time_t now)
{
	struct tm tm = {0};
	const char *end;
	char *e;
	long long secs;
	time_t t;

	if (!v)
		return -1;
	while (*v == ' ' || *v == '\t')
		v++;
	if (*v >= '0' && *v <= '9') {
		errno = 0;
		secs = strtoll(v, &e, 10);
		while (*e == ' ' || *e == '\t' || *e == '\r' || *e == '\n')
			e++;
		if (errno || *e || secs < 0 || secs > 86400 * 365)
			return -1;
		return secs * 1000;
	}
	/* IMF-fixdate, e.g. "Wed, 21 Oct 2015 07:28:00 GMT" */
	end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!end)
		return -1;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	return t > now ? (long long)(t - now) * 1000 : 0;
}

long long otlp_backoff_ms(unsigned attempt, double rnd)
{
	long long base = 500;

	for (unsigned i = 0; i < attempt && base < 16000; i++)
		base *= 2;
	if (base > 16000)
		base = 16000;
	return (long long)(base * (0.5 + rnd / 2));
}

bool otlp_status_retryable(long status)
{
	return status == 429 || status == 502 || status == 503 || status == 504;
}

char *otlp_signal_url(const char *base, const char *signal_url, const char *signal)
{
	char *url = NULL;
	size_t n;

	if (signal_url && *signal_url)
		return strdup(signal_url);
	if (!base || !*base)
		return NULL;
	n = strlen(base);
	while (n && base[n - 1] == '/')
		n--;
	if (asprintf(&url, "%.*s/v1/%s", (int)n, base, signal) < 0)
		return NULL;
	return url;
}

/* ---- state ---- */

enum { SIG_TRACES = 0, SIG_METRICS, SIG__MAX };
static const char *const sig_names[SIG__MAX] = {"traces", "metrics"};

/* export request latency buckets, seconds */
#define LAT_NB 12
static const double lat_bounds[LAT_NB] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
					  0.1,	 0.25,	 0.5,	1,    2.5,   10};

struct sig_stats {
	uint64_t requests_ok, requests_failed, retries;
	uint64_t lat_buckets[LAT_NB + 1];
	double lat_sum_ns; /* guarded by stats_lock */
	uint64_t lat_count;
	uint64_t bytes_sent;
};

struct signal {
	char *url;
	CURL *curl;
	struct curl_slist *headers;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct http_span **q; /* ring of queue_size spans, each allocated to its length */
	unsigned cap, head, len;
	bool stop, running;
	uint64_t stop_deadline; /* mono ms; 0 until otlp_stop() */
	pthread_t thread;
	double ratio;
	struct signal sig[SIG__MAX];
	struct otlp_kvs resource_kvs;
	struct otlp_res_cfg res;
	char host[256];
	struct http_span **batch;
	/* counters */
	uint64_t spans_exported, spans_dropped, spans_failed, spans_rejected, spans_unsampled;
	uint64_t points_exported, points_failed, points_rejected;
	struct sig_stats st[SIG__MAX];
} X = {.lock = PTHREAD_MUTEX_INITIALIZER};
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;

static void count(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static uint64_t get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t unix_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* process start time (clock ticks after boot) for service.instance.id; exporter thread only */
static uint64_t proc_start(uint32_t pid)
{
	static struct {
		uint32_t pid;
		uint64_t start;
	} cache[256];
	unsigned slot = pid % 256;
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	FILE *f;

	if (cache[slot].pid == pid)
		return cache[slot].start;
	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* comm may hold spaces */
	/* fields after comm: state(3) ... starttime(22) */
	if (!p || sscanf(p + 2,
			 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
			 "%*d %*d %*d %llu",
			 &start) != 1)
		return 0;
	cache[slot].pid = pid;
	cache[slot].start = start;
	return start;
}

/* ---- queue ---- */

void otlp_submit(const struct http_span *s)
{
	struct http_span *copy;
	bool wake = false;
	size_t size;

	if (!X.running)
		return;
	if (!otlp_sample(cfg.sampler, X.ratio, s)) {
		count(&X.spans_unsampled, 1);
		return;
	}
	/* a span is stored only as long as it is: most have no file.read children to carry */
	size = span_size(s);
	copy = malloc(size);
	if (!copy) {
		count(&X.spans_dropped, 1);
		return;
	}
	memcpy(copy, s, size);
	pthread_mutex_lock(&X.lock);
	if (X.len == X.cap) {
		pthread_mutex_unlock(&X.lock);
		free(copy);
		count(&X.spans_dropped, 1);
		return;
	}
	X.q[(X.head + X.len) % X.cap] = copy;
	X.len++;
	/* wake the exporter once per full batch, not per span */
	wake = X.len == (unsigned)cfg.batch_size;
	pthread_mutex_unlock(&X.lock);
	if (wake)
		pthread_cond_signal(&X.cond);
}

static void free_spans(struct http_span **v, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		free(v[i]);
		v[i] = NULL;
	}
}

/* Under X.lock: drops what is queued (counted by the caller). */
static void drop_queue(void)
{
	for (unsigned i = 0; i < X.len; i++) {
		free(X.q[(X.head + i) % X.cap]);
		X.q[(X.head + i) % X.cap] = NULL;
	}
	X.len = 0;
}

/* Under X.lock: moves up to batch_size spans into X.batch. */
static unsigned take_batch(void)
{
	unsigned n = X.len < (unsigned)cfg.batch_size ? X.len : (unsigned)cfg.batch_size;

	for (unsigned i = 0; i < n; i++)
		X.batch[i] = X.q[(X.head + i) % X.cap];
	X.head = (X.head + n) % X.cap;
	X.len -= n;
	return n;
}

/* ---- HTTP ---- */

struct resp {
	char buf[65536];
	size_t len;
	long long retry_after_ms;
};

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct resp *r = ctx;
	size_t len = size * n, room = sizeof(r->buf) - r->len;

	if (len > room)
		len = room; /* keep the head: partial_success is small */
	memcpy(r->buf + r->len, p, len);
	r->len += len;
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct resp *r = ctx;
	size_t len = size * n;
	char val[128];

	if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		snprintf(val, sizeof(val), "%.*s", (int)(len - 12), p + 12);
		r->retry_after_ms = otlp_retry_after_ms(val, time(NULL));
	}
	return len;
}

/* Appends "k: v" for spec's members whose key is not in override (case-insensitive). */
static struct curl_slist *add_headers(struct curl_slist *l, const char *spec,
				      const struct otlp_kvs *override, bool *failed)
{
	struct otlp_kvs kvs;

	if (!spec || otlp_kvs_parse(spec, &kvs))
		return l;
	for (unsigned i = 0; i < kvs.n; i++) {
		char *h = NULL;
		struct curl_slist *nl;
		bool skip = false;

		for (unsigned k = 0; override && k < override->n; k++)
			skip |= !strcasecmp(override->v[k].key, kvs.v[i].key);
		if (skip)
			continue;
		if (asprintf(&h, "%s: %s", kvs.v[i].key, kvs.v[i].val) < 0) {
			*failed = true;
			break;
		}
		nl = curl_slist_append(l, h);
		free(h);
		if (!nl) {
			*failed = true;
			break;
		}
		l = nl;
	}
	otlp_kvs_free(&kvs);
	return l;
}

static int signal_open(struct signal *sg, const char *url, const char *sig_headers)
{
	struct otlp_kvs own = {0};
	bool failed = false;
	struct curl_slist *l = NULL;

	sg->url = strdup(url);
	sg->curl = curl_easy_init();
	if (!sg->url || !sg->curl)
		return -ENOMEM;
	l = curl_slist_append(l, "Content-Type: application/x-protobuf");
	if (l && cfg.compression == 0)
		l = curl_slist_append(l, "Content-Encoding: gzip");
	if (!l)
		return -ENOMEM;
	/* a per-signal header replaces the generic one of the same name */
	if (sig_headers && otlp_kvs_parse(sig_headers, &own))
		return -EINVAL;
	l = add_headers(l, cfg.headers, &own, &failed);
	l = add_headers(l, sig_headers, NULL, &failed);
	otlp_kvs_free(&own);
	sg->headers = l;
	if (failed)
		return -ENOMEM;
	curl_easy_setopt(sg->curl, CURLOPT_URL, sg->url);
	curl_easy_setopt(sg->curl, CURLOPT_HTTPHEADER, sg->headers);
	curl_easy_setopt(sg->curl, CURLOPT_USERAGENT, "o11y-ebpf/" O11Y_VERSION);
	curl_easy_setopt(sg->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(sg->curl, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(sg->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(sg->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(sg->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (cfg.certificate)
		curl_easy_setopt(sg->curl, CURLOPT_CAINFO, cfg.certificate);
	if (cfg.client_certificate)
		curl_easy_setopt(sg->curl, CURLOPT_SSLCERT, cfg.client_certificate);
	if (cfg.client_key)
		curl_easy_setopt(sg->curl, CURLOPT_SSLKEY, cfg.client_key);
	return 0;
}

static void signal_close(struct signal *sg)
{
	if (sg->curl)
		curl_easy_cleanup(sg->curl);
	curl_slist_free_all(sg->headers);
	free(sg->url);
	memset(sg, 0, sizeof(*sg));
}

/* gzip (not zlib) framing, fastest level: the body is small and the CPU budget is tight */
static int gzip(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
	z_stream zs = {0};
	int err = -ENOMEM;

	if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	*out_len = deflateBound(&zs, len);
	*out = malloc(*out_len);
	if (!*out)
		goto out;
	zs.next_in = (uint8_t *)in;
	zs.avail_in = len;
	zs.next_out = *out;
	zs.avail_out = *out_len;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
		free(*out);
		*out = NULL;
		err = -EIO;
		goto out;
	}
	*out_len = zs.total_out;
	err = 0;
out:
	deflateEnd(&zs);
	return err;
}

static void observe_latency(int sig, uint64_t ns)
{
	struct sig_stats *st = &X.st[sig];
	double s = ns / 1e9;
	unsigned b;

	for (b = 0; b < LAT_NB && s > lat_bounds[b]; b++)
		;
	pthread_mutex_lock(&stats_lock);
	st->lat_buckets[b]++;
	st->lat_sum_ns += ns;
	st->lat_count++;
	pthread_mutex_unlock(&stats_lock);
}

/* deadline, or earlier once otlp_stop() asked for a flush within the export timeout */
static uint64_t effective(uint64_t deadline)
{
	uint64_t sd = __atomic_load_n(&X.stop_deadline, __ATOMIC_RELAXED);

	return sd && sd < deadline ? sd : deadline;
}

/* Sleeps until wake (mono ms), cut short by the effective deadline when a stop comes in. */
static void sleep_until(uint64_t wake, uint64_t deadline)
{
	struct timespec ts;

	pthread_mutex_lock(&X.lock);
	for (;;) {
		uint64_t end = effective(deadline), now = mono_ms(), wait;

		if (wake < end)
			end = wake;
		if (now >= end)
			break;
		wait = end - now;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += wait / 1000;
		ts.tv_nsec += (wait % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&X.cond, &X.lock, &ts);
	}
	pthread_mutex_unlock(&X.lock);
}

static void log_partial(int sig, const struct resp *r, int64_t *rejected)
{
	const char *msg = NULL;

	*rejected = 0;
	if (!r->len)
		return;
	if (sig == SIG_TRACES) {
		Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse *m =
		    opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(
			NULL, r->len, (const uint8_t *)r->buf);

		if (!m) {
			log_debug(
			    "otlp: traces: response body is not an ExportTraceServiceResponse");
			return;
		}
		if (m->partial_success) {
			*rejected = m->partial_success->rejected_spans;
			msg = m->partial_success->error_message;
		}
		if (*rejected || (msg && *msg))
			log_warn("otlp: traces: partial success: %lld span(s) rejected: %s",
				 (long long)*rejected, msg && *msg ? msg : "(no message)");
		opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(
		    m, NULL);
	} else {
		Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse *m =
		    opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__unpack(
			NULL, r->len, (const uint8_t *)r->buf);

		if (!m) {
			log_debug(
			    "otlp: metrics: response body is not an ExportMetricsServiceResponse");
			return;
		}
		if (m->partial_success) {
			*rejected = m->partial_success->rejected_data_points;
			msg = m->partial_success->error_message;
		}
		if (*rejected || (msg && *msg))
			log_warn("otlp: metrics: partial success: %lld data point(s) rejected: %s",
				 (long long)*rejected, msg && *msg ? msg : "(no message)");
		opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__free_unpacked(
		    m, NULL);
	}
	if (*rejected < 0)
		*rejected = 0;
}

/*
 * Sends one body, retrying until deadline (mono ms). Returns 0 when delivered (*rejected: the
 * partial_success count), -EAGAIN when retries ran out, -EIO for a non-retryable answer.
 */
static int deliver(int sig, const uint8_t *body, size_t len, uint64_t deadline, int64_t *rejected)
{
	struct signal *sg = &X.sig[sig];
	static struct resp r;
	unsigned attempt = 0;

	for (;;) {
		uint64_t now = mono_ms(), t0 = unix_ns();
		long long wait;
		long status = 0;
		CURLcode rc;

		if (now >= effective(deadline))
			return -EAGAIN;
		r.len = 0;
		r.retry_after_ms = -1;
		curl_easy_setopt(sg->curl, CURLOPT_WRITEDATA, &r);
		curl_easy_setopt(sg->curl, CURLOPT_HEADERDATA, &r);
		curl_easy_setopt(sg->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(sg->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		wait = effective(deadline) - now;
		curl_easy_setopt(sg->curl, CURLOPT_TIMEOUT_MS,
				 (long)(wait < cfg.timeout_ms ? wait : cfg.timeout_ms));
		rc = curl_easy_perform(sg->curl);
		observe_latency(sig, unix_ns() - t0);
		if (rc == CURLE_OK)
			curl_easy_getinfo(sg->curl, CURLINFO_RESPONSE_CODE, &status);
		if (rc == CURLE_OK && status >= 200 && status < 300) {
			count(&X.st[sig].requests_ok, 1);
			count(&X.st[sig].bytes_sent, len);
			log_partial(sig, &r, rejected);
			return 0;
		}
		count(&X.st[sig].requests_failed, 1);
		if (rc == CURLE_OK && !otlp_status_retryable(status)) {
			log_warn(
			    "otlp: %s: %s answered HTTP %ld: dropping the request (not retried)",
			    sig_names[sig], sg->url, status);
			return -EIO;
		}
		wait = otlp_backoff_ms(attempt++, (double)rand() / ((double)RAND_MAX + 1));
		if (r.retry_after_ms >= 0)
			wait = r.retry_after_ms;
		if (rc != CURLE_OK)
			log_debug("otlp: %s: %s: %s; retry in %lld ms", sig_names[sig], sg->url,
				  curl_easy_strerror(rc), wait);
		else
			log_debug("otlp: %s: HTTP %ld; retry in %lld ms", sig_names[sig], status,
				  wait);
		if (mono_ms() + wait >= effective(deadline)) {
			log_warn("otlp: %s: %s: %s; giving up after %u attempt(s)", sig_names[sig],
				 sg->url, rc != CURLE_OK ? curl_easy_strerror(rc) : "HTTP error",
				 attempt);
			return -EAGAIN;
		}
		count(&X.st[sig].retries, 1);
		sleep_until(mono_ms() + wait, deadline);
	}
}

/* Compresses (when configured) and delivers. */
static int send_body(int sig, uint8_t *raw, size_t len, uint64_t deadline, int64_t *rejected)
{
	uint8_t *z = NULL;
	size_t zlen;
	int err;

	if (cfg.compression == 0) {
		err = gzip(raw, len, &z, &zlen);
		if (err)
			return err;
		err = deliver(sig, z, zlen, deadline, rejected);
		free(z);
		return err;
	}
	return deliver(sig, raw, len, deadline, rejected);
}

static void export_spans(unsigned n, uint64_t deadline)
{
	uint8_t *body;
	size_t len;
	int64_t rejected = 0;
	int err;

	err = otlp_encode_traces((const struct http_span *const *)X.batch, n, &X.res, &body, &len);
	if (err) {
		log_warn("otlp: traces: cannot encode %u span(s): %s", n, strerror(-err));
		count(&X.spans_failed, n);
		return;
	}
	err = send_body(SIG_TRACES, body, len, deadline, &rejected);
	free(body);
	if (err) {
		count(&X.spans_failed, n);
		return;
	}
	if (rejected > n)
		rejected = n;
	count(&X.spans_rejected, rejected);
	count(&X.spans_exported, n - rejected);
}

/* Page-cache totals (user/pagecache.h), when the page-cache programs run. */
static void export_pagecache(uint64_t deadline)
{
	struct pc_service *svc;
	struct pc_counts host;
	unsigned n;
	uint8_t *body;
	size_t len;
	uint64_t start;
	int64_t rejected = 0;
	int err;

	if (pc_source_snapshot(&host, &svc, &n, &start))
		return;
	err = otlp_encode_pagecache(&host, svc, n, "o11y-ebpf", start, unix_ns(), &X.res, &body,
				    &len);
	free(svc);
	if (err) {
		log_warn("otlp: page-cache metrics: cannot encode: %s", strerror(-err));
		count(&X.points_failed, 2 * (n + 1));
		return;
	}
	err = send_body(SIG_METRICS, body, len, deadline, &rejected);
	free(body);
	if (err) {
		count(&X.points_failed, 2 * (n + 1));
		return;
	}
	count(&X.points_exported, 2 * (n + 1) - (rejected > 2 * (n + 1) ? 2 * (n + 1) : rejected));
}

static void export_metrics(uint64_t deadline)
{
	struct red_series *snap;
	uint64_t start;
	unsigned n;
	uint8_t *body;
	size_t len;
	int64_t rejected = 0;
	int err;

	export_pagecache(deadline);
	if (red_snapshot(&snap, &n, &start) || !n) {
		free(snap);
		return;
	}
	err = otlp_encode_metrics(snap, n, start, unix_ns(), &X.res, &body, &len);
	free(snap);
	if (err) {
		log_warn("otlp: metrics: cannot encode: %s", strerror(-err));
		count(&X.points_failed, n);
		return;
	}
	err = send_body(SIG_METRICS, body, len, deadline, &rejected);
	free(body);
	if (err) {
		count(&X.points_failed, n);
		return;
	}
	if (rejected > n)
		rejected = n;
	count(&X.points_rejected, rejected);
	count(&X.points_exported, n - rejected);
}

static void *exporter(void *arg)
{
	uint64_t next_spans = mono_ms() + cfg.schedule_delay_ms;
	uint64_t next_metrics = mono_ms() + cfg.metric_interval_ms;
	bool stopping = false;
	uint64_t stop_deadline = 0;

	(void)arg;
	for (;;) {
		unsigned n = 0;
		bool do_metrics = false;
		uint64_t now;

		pthread_mutex_lock(&X.lock);
		for (;;) {
			struct timespec ts;
			uint64_t due;

			now = mono_ms();
			if (X.stop && !stopping) {
				stopping = true;
				stop_deadline = X.stop_deadline;
			}
			/* both checked every time: a steady stream of full batches must not starve
			 * the metrics */
			do_metrics = !stopping && X.sig[SIG_METRICS].url && now >= next_metrics;
			if (stopping || X.len >= (unsigned)cfg.batch_size ||
			    (X.len && now >= next_spans))
				n = take_batch();
			if (n || do_metrics || stopping)
				break;
			if (!X.len && now >= next_spans)
				next_spans = now + cfg.schedule_delay_ms;
			due = next_spans;
			if (X.sig[SIG_METRICS].url && next_metrics < due)
				due = next_metrics;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += (due - now) / 1000;
			ts.tv_nsec += ((due - now) % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&X.cond, &X.lock, &ts);
		}
		pthread_mutex_unlock(&X.lock);

		if (n) {
			next_spans = mono_ms() + cfg.schedule_delay_ms;
			if (X.sig[SIG_TRACES].url)
				export_spans(n, stopping ? stop_deadline
							 : mono_ms() + cfg.export_timeout_ms);
			else
				count(&X.spans_dropped, n);
			free_spans(X.batch, n);
		}
		if (do_metrics) {
			next_metrics = mono_ms() + cfg.metric_interval_ms;
			export_metrics(mono_ms() + cfg.export_timeout_ms);
		}
		if (stopping && !n) {
			/* last cumulative values, so the final requests are counted */
			if (X.sig[SIG_METRICS].url && mono_ms() < stop_deadline)
				export_metrics(stop_deadline);
			break;
		}
		if (stopping && mono_ms() >= stop_deadline) {
			pthread_mutex_lock(&X.lock);
			count(&X.spans_failed, X.len);
			drop_queue();
			pthread_mutex_unlock(&X.lock);
			log_warn(
			    "otlp: export timeout reached while flushing; spans left were dropped");
			break;
		}
	}
	return NULL;
}

/* ---- /metrics ---- */

static int prom_write(struct prom_buf *b, void *ctx)
{
	unsigned qlen;

	(void)ctx;
	pthread_mutex_lock(&X.lock);
	qlen = X.len;
	pthread_mutex_unlock(&X.lock);
	prom_family(b, "o11y_ebpf_otlp_spans_exported_total", "counter",
		    "Spans the collector accepted.");
	prom_sample(b, "o11y_ebpf_otlp_spans_exported_total", NULL, get(&X.spans_exported));
	prom_family(b, "o11y_ebpf_otlp_spans_dropped_total", "counter",
		    "Spans not exported: queue full, or not sampled.");
	prom_sample(b, "o11y_ebpf_otlp_spans_dropped_total",
		    (const char *const[]){"reason", "queue_full", NULL}, get(&X.spans_dropped));
	prom_sample(b, "o11y_ebpf_otlp_spans_dropped_total",
		    (const char *const[]){"reason", "sampler", NULL}, get(&X.spans_unsampled));
	prom_family(b, "o11y_ebpf_otlp_spans_failed_total", "counter",
		    "Spans whose export failed (retries exhausted, refused, or rejected).");
	prom_sample(b, "o11y_ebpf_otlp_spans_failed_total",
		    (const char *const[]){"reason", "send", NULL}, get(&X.spans_failed));
	prom_sample(b, "o11y_ebpf_otlp_spans_failed_total",
		    (const char *const[]){"reason", "rejected", NULL}, get(&X.spans_rejected));
	prom_family(b, "o11y_ebpf_otlp_metric_points_exported_total", "counter",
		    "Metric data points the collector accepted.");
	prom_sample(b, "o11y_ebpf_otlp_metric_points_exported_total", NULL,
		    get(&X.points_exported));
	prom_family(b, "o11y_ebpf_otlp_metric_points_failed_total", "counter",
		    "Metric data points whose export failed or was rejected.");
	prom_sample(b, "o11y_ebpf_otlp_metric_points_failed_total", NULL,
		    get(&X.points_failed) + get(&X.points_rejected));
	prom_family(b, "o11y_ebpf_otlp_queue_spans", "gauge", "Spans waiting for export.");
	prom_sample(b, "o11y_ebpf_otlp_queue_spans", NULL, qlen);
	prom_family(b, "o11y_ebpf_otlp_queue_capacity_spans", "gauge",
		    "Capacity of the export queue.");
	prom_sample(b, "o11y_ebpf_otlp_queue_capacity_spans", NULL, X.cap);
	prom_family(b, "o11y_ebpf_otlp_requests_total", "counter",
		    "OTLP export HTTP requests by signal and result.");
	for (int s = 0; s < SIG__MAX; s++) {
		prom_sample(b, "o11y_ebpf_otlp_requests_total",
			    (const char *const[]){"signal", sig_names[s], "result", "ok", NULL},
			    get(&X.st[s].requests_ok));
		prom_sample(b, "o11y_ebpf_otlp_requests_total",
			    (const char *const[]){"signal", sig_names[s], "result", "error", NULL},
			    get(&X.st[s].requests_failed));
	}
	prom_family(b, "o11y_ebpf_otlp_sent_bytes_total", "counter",
		    "Request body bytes delivered (after compression).");
	for (int s = 0; s < SIG__MAX; s++)
		prom_sample(b, "o11y_ebpf_otlp_sent_bytes_total",
			    (const char *const[]){"signal", sig_names[s], NULL},
			    get(&X.st[s].bytes_sent));
	prom_family(b, "o11y_ebpf_otlp_export_duration_seconds", "histogram",
		    "Latency of OTLP export HTTP requests.");
	pthread_mutex_lock(&stats_lock);
	for (int s = 0; s < SIG__MAX; s++) {
		uint64_t cum = 0;
		char le[32];

		for (unsigned i = 0; i <= LAT_NB; i++) {
			cum += X.st[s].lat_buckets[i];
			if (i < LAT_NB)
				snprintf(le, sizeof(le), "%g", lat_bounds[i]);
			else
				snprintf(le, sizeof(le), "+Inf");
			prom_sample(b, "o11y_ebpf_otlp_export_duration_seconds_bucket",
				    (const char *const[]){"signal", sig_names[s], "le", le, NULL},
				    cum);
		}
		prom_sample(b, "o11y_ebpf_otlp_export_duration_seconds_sum",
			    (const char *const[]){"signal", sig_names[s], NULL},
			    X.st[s].lat_sum_ns / 1e9);
		prom_sample(b, "o11y_ebpf_otlp_export_duration_seconds_count",
			    (const char *const[]){"signal", sig_names[s], NULL}, X.st[s].lat_count);
	}
	pthread_mutex_unlock(&stats_lock);
	return b->err;
}

/* ---- lifecycle ---- */

int otlp_start(void)
{
	pthread_condattr_t ca;
	sigset_t all, old;
	char *turl = NULL, *murl = NULL;
	int err;

	err = prom_register_source("otlp", prom_write, NULL);
	if (err)
		log_warn("otlp: cannot register the /metrics source: %s", strerror(-err));
	turl = otlp_signal_url(cfg.endpoint, cfg.traces_endpoint, "traces");
	murl = otlp_signal_url(cfg.endpoint, cfg.metrics_endpoint, "metrics");
	if (!turl && !murl) {
		log_info("otlp: no OTEL_EXPORTER_OTLP_ENDPOINT (or per-signal endpoint): "
			 "spans and metrics are not exported over OTLP");
		return 0;
	}
	X.ratio = cfg.sampler_arg ? strtod(cfg.sampler_arg, NULL) : 1.0;
	if (gethostname(X.host, sizeof(X.host) - 1))
		snprintf(X.host, sizeof(X.host), "unknown");
	if (otlp_kvs_parse(cfg.resource_attrs, &X.resource_kvs)) {
		err = -EINVAL; /* validated by the config already */
		goto err_free;
	}
	X.res.host_name = X.host;
	X.res.sdk_version = O11Y_VERSION;
	X.res.extra = &X.resource_kvs;
	X.res.proc_start = proc_start;
	err = -ENOMEM;
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		goto err_free;
	if (turl && (err = signal_open(&X.sig[SIG_TRACES], turl, cfg.traces_headers)))
		goto err_close;
	if (murl && (err = signal_open(&X.sig[SIG_METRICS], murl, cfg.metrics_headers)))
		goto err_close;
	X.cap = cfg.queue_size;
	X.q = calloc(X.cap, sizeof(*X.q));
	X.batch = calloc(cfg.batch_size, sizeof(*X.batch));
	if (!X.q || !X.batch) {
		err = -ENOMEM;
		goto err_close;
	}
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&X.cond, &ca);
	pthread_condattr_destroy(&ca);
	srand((unsigned)(unix_ns() ^ getpid()));
	X.running = true;
	/* the main thread takes signals through its signalfd: the exporter never does */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&X.thread, NULL, exporter, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		X.running = false;
		goto err_close;
	}
	log_info("otlp: exporting spans to %s and metrics to %s (http/protobuf, %s; batch %lld, "
		 "delay %lld ms, queue %lld, metrics every %lld ms, sampler %s)",
		 turl ? turl : "(nowhere)", murl ? murl : "(nowhere)",
		 compression_choices[cfg.compression], cfg.batch_size, cfg.schedule_delay_ms,
		 cfg.queue_size, cfg.metric_interval_ms, sampler_choices[cfg.sampler]);
	free(turl);
	free(murl);
	return 0;

err_close:
	log_error("otlp: cannot start the exporter: %s", strerror(-err));
	for (int s = 0; s < SIG__MAX; s++)
		signal_close(&X.sig[s]);
	free(X.q);
	free(X.batch);
	X.q = X.batch = NULL;
	curl_global_cleanup();
err_free:
	otlp_kvs_free(&X.resource_kvs);
	free(turl);
	free(murl);
	return err;
}

void otlp_stop(void)
{
	if (X.running) {
		pthread_mutex_lock(&X.lock);
		X.stop = true;
		__atomic_store_n(&X.stop_deadline, mono_ms() + cfg.export_timeout_ms,
				 __ATOMIC_RELAXED);
		pthread_mutex_unlock(&X.lock);
		pthread_cond_broadcast(&X.cond);
		pthread_join(X.thread, NULL);
		X.running = false;
		log_info("otlp: stopped; %llu span(s) exported, %llu dropped (queue full), %llu "
			 "failed",
			 (unsigned long long)get(&X.spans_exported),
			 (unsigned long long)get(&X.spans_dropped),
			 (unsigned long long)get(&X.spans_failed));
		for (int s = 0; s < SIG__MAX; s++)
			signal_close(&X.sig[s]);
		drop_queue();
		free(X.q);
		free(X.batch);
		X.q = X.batch = NULL;
		otlp_kvs_free(&X.resource_kvs);
		curl_global_cleanup();
	}
	/* OPT_CUSTOM strings are ours to free */
	free(cfg.headers);
	free(cfg.traces_headers);
	free(cfg.metrics_headers);
	free(cfg.resource_attrs);
	free(cfg.protocol);
	free(cfg.traces_protocol);
	free(cfg.metrics_protocol);
	free(cfg.sampler_arg);
	cfg.headers = cfg.traces_headers = cfg.metrics_headers = cfg.resource_attrs = NULL;
	cfg.protocol = cfg.traces_protocol = cfg.metrics_protocol = cfg.sampler_arg = NULL;
}
