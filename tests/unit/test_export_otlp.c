// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Exporter decisions: samplers, retry policy, Retry-After, endpoint URLs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "export_otlp.h"


/* a span whose trace id's last 8 bytes are the big-endian x */
static void span_x(struct http_span *s, uint64_t x)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 8; i++)
		s->trace_id[15 - i] = (uint8_t)(x >> (8 * i));
	s->trace_id[0] = 0xff; /* the first half does not matter */
}

static void test_ratio(void **st)
{
	struct http_span s;
	unsigned kept = 0;

	/* x >> 1 < ratio * 2^63: 0.25 keeps x below 2^62 */
	span_x(&s, (1ULL << 62) - 2);
	assert_true(otlp_sample(OTLP_SAMPLER_TRACEIDRATIO, 0.25, &s));
	span_x(&s, 1ULL << 62);
	assert_false(otlp_sample(OTLP_SAMPLER_TRACEIDRATIO, 0.25, &s));
	span_x(&s, ~0ULL);
	assert_false(otlp_sample(OTLP_SAMPLER_TRACEIDRATIO, 0.999, &s));
	assert_true(otlp_sample(OTLP_SAMPLER_TRACEIDRATIO, 1.0, &s));
	span_x(&s, 0);
	assert_false(otlp_sample(OTLP_SAMPLER_TRACEIDRATIO, 0.0, &s));
	/* evenly spread ids: about the ratio */
	for (uint64_t i = 0; i < 10000; i++) {
		span_x(&s, i * 0x1999999999999ULL * 16);
		kept += otlp_sample(OTLP_SAMPLER_TRACEIDRATIO, 0.1, &s);
	}
	assert_in_range(kept, 950, 1050);
}

static void test_samplers(void **st)
{
	struct http_span s;

	span_x(&s, ~0ULL);
	assert_true(otlp_sample(OTLP_SAMPLER_ALWAYS_ON, 0, &s));
	assert_false(otlp_sample(OTLP_SAMPLER_ALWAYS_OFF, 1, &s));
	/* no parent: the root sampler */
	assert_true(otlp_sample(OTLP_SAMPLER_PARENT_ALWAYS_ON, 0, &s));
	assert_false(otlp_sample(OTLP_SAMPLER_PARENT_ALWAYS_OFF, 1, &s));
	assert_false(otlp_sample(OTLP_SAMPLER_PARENT_TRACEIDRATIO, 0.5, &s));
	/* a remote parent decides */
	s.has_parent = true;
	s.trace_flags = 1;
	assert_true(otlp_sample(OTLP_SAMPLER_PARENT_ALWAYS_OFF, 0, &s));
	assert_true(otlp_sample(OTLP_SAMPLER_PARENT_TRACEIDRATIO, 0.0, &s));
	s.trace_flags = 0;
	assert_false(otlp_sample(OTLP_SAMPLER_PARENT_ALWAYS_ON, 1, &s));
	/* the plain ratio sampler ignores the parent */
	span_x(&s, 0);
	s.has_parent = true;
	assert_true(otlp_sample(OTLP_SAMPLER_TRACEIDRATIO, 0.5, &s));
}

static void test_backoff(void **st)
{
	assert_int_equal(otlp_backoff_ms(0, 0), 250);
	assert_int_equal(otlp_backoff_ms(0, 0.999999), 499);
	assert_int_equal(otlp_backoff_ms(1, 0), 500);
	assert_int_equal(otlp_backoff_ms(3, 0), 2000);
	assert_int_equal(otlp_backoff_ms(10, 0), 8000);
	assert_int_equal(otlp_backoff_ms(100, 0.5), 12000);
	assert_true(otlp_status_retryable(429));
	assert_true(otlp_status_retryable(502));
	assert_true(otlp_status_retryable(503));
	assert_true(otlp_status_retryable(504));
	assert_false(otlp_status_retryable(400));
	assert_false(otlp_status_retryable(401));
	assert_false(otlp_status_retryable(404));
	assert_false(otlp_status_retryable(500));
}

static void test_retry_after(void **st)
{
	/* Wed, 21 Oct 2015 07:28:00 GMT = 1445412480 */
	assert_int_equal(otlp_retry_after_ms("3", 0), 3000);
	assert_int_equal(otlp_retry_after_ms(" 0\r\n", 0), 0);
	assert_int_equal(otlp_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470), 10000);
	assert_int_equal(otlp_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT\r\n", 1445412470),
			 10000);
	assert_int_equal(otlp_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490), 0);
	assert_int_equal(otlp_retry_after_ms("soon", 0), -1);
	assert_int_equal(otlp_retry_after_ms("-5", 0), -1);
	assert_int_equal(otlp_retry_after_ms("5s", 0), -1);
	assert_int_equal(otlp_retry_after_ms(NULL, 0), -1);
}

static void test_urls(void **st)
{
	char *u;

	u = otlp_signal_url("http://c:4318", NULL, "traces");
	assert_string_equal(u, "http://c:4318/v1/traces");
	free(u);
	u = otlp_signal_url("http://c:4318/", "", "metrics");
	assert_string_equal(u, "http://c:4318/v1/metrics");
	free(u);
	u = otlp_signal_url("http://c:4318/prefix//", NULL, "traces");
	assert_string_equal(u, "http://c:4318/prefix/v1/traces");
	free(u);
	u = otlp_signal_url("http://c:4318", "http://d/custom", "traces");
	assert_string_equal(u, "http://d/custom");
	free(u);
	assert_null(otlp_signal_url(NULL, NULL, "traces"));
	assert_null(otlp_signal_url("", NULL, "traces"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ratio),   cmocka_unit_test(test_samplers),
	    cmocka_unit_test(test_backoff), cmocka_unit_test(test_retry_after),
	    cmocka_unit_test(test_urls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
