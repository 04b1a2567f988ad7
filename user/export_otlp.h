/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * OTLP/HTTP (protobuf) export of spans and RED metrics. The main thread hands spans to
 * otlp_submit(), which samples them and copies them into a bounded queue without waiting
 * (a full queue drops and counts). One exporter thread batches the queue
 * (OTEL_BSP_MAX_EXPORT_BATCH_SIZE spans, or every OTEL_BSP_SCHEDULE_DELAY ms), sends the RED
 * metrics every OTEL_METRIC_EXPORT_INTERVAL ms, gzips, POSTs with libcurl and retries 429,
 * 502, 503, 504 and connection failures with exponential backoff and jitter (honouring
 * Retry-After) until OTEL_BSP_EXPORT_TIMEOUT, then drops and counts.
 */
#ifndef O11Y_EXPORT_OTLP_H
#define O11Y_EXPORT_OTLP_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "span.h"

extern const struct opt_table otlp_opt_table;

/*
 * Registers the agent metrics source, and with an endpoint configured starts the exporter
 * thread (without one, logs once that nothing goes out over OTLP). Call after red_init().
 * Returns 0 or -errno (logged).
 */
int otlp_start(void);
/* Main thread: samples s and queues a copy; never blocks on the network. */
void otlp_submit(const struct http_span *s);
/* Flushes what is queued (and the metrics) within OTEL_BSP_EXPORT_TIMEOUT, then stops. */
void otlp_stop(void);

/* Building blocks, exposed for the unit tests. */
enum otlp_sampler {
	OTLP_SAMPLER_ALWAYS_ON = 0,
	OTLP_SAMPLER_ALWAYS_OFF,
	OTLP_SAMPLER_TRACEIDRATIO,
	OTLP_SAMPLER_PARENT_ALWAYS_ON,
	OTLP_SAMPLER_PARENT_ALWAYS_OFF,
	OTLP_SAMPLER_PARENT_TRACEIDRATIO,
};
/* The OTel SDK decision: ratio compares the trace id's last 8 bytes (>> 1) with ratio * 2^63. */
bool otlp_sample(enum otlp_sampler sampler, double ratio, const struct http_span *s);
/* Retry-After as delay-seconds or an HTTP date, in ms from now; -1 when unparsable. */
long long otlp_retry_after_ms(const char *value, time_t now);
/* Delay before retry number attempt (0-based): 500 ms doubling to 16 s, times [0.5, 1) from rnd. */
long long otlp_backoff_ms(unsigned attempt, double rnd);
bool otlp_status_retryable(long status);
/* signal_url when set, else base + "/v1/<signal>" (one '/' between them); NULL when neither. */
char *otlp_signal_url(const char *base, const char *signal_url, const char *signal);

#endif
