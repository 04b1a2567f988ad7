// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The exposition writer: prom_value must print what Go's strconv.FormatFloat(v, 'g', -1, 64)
 * prints (the shortest digits that read back as v). Checked against fixed Go outputs and against
 * a reference that searches every precision from 0 up, over a million doubles of the kinds
 * collectors produce (integers, hundredths, byte counts, ratios) and random bit patterns.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom.h"

static const char *value_str(struct prom_buf *b, double v)
{
	prom_buf_reset(b);
	prom_value(b, v);
	return b->data;
}

/* shortest round-trip digits by exhaustive search, printed Go's way */
static void reference(char *out, size_t size, double v)
{
	char buf[40];
	int prec, exp;

	if (fabs(v) < 1e6 && v == (double)(long long)v) {
		snprintf(out, size, "%lld", (long long)v);
		return;
	}
	for (prec = 0; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	exp = atoi(strchr(buf, 'e') + 1);
	if (exp >= -4 && exp < 6)
		snprintf(buf, sizeof(buf), "%.*f", prec > exp ? prec - exp : 0, v);
	snprintf(out, size, "%s", buf);
}

static void test_value_go(void **state)
{
	/* strconv.FormatFloat(v, 'g', -1, 64) in Go 1.19 */
	static const struct {
		double v;
		const char *go;
	} cases[] = {
		{ 0, "0" },
		{ -0.0, "0" },
		{ 1, "1" },
		{ -1, "-1" },
		{ 999999, "999999" },
		{ 1e6, "1e+06" },
		{ 2466170, "2.46617e+06" },
		{ -2466170, "-2.46617e+06" },
		{ 25276502016, "2.5276502016e+10" },
		{ 9007199254740993.0, "9.007199254740992e+15" },
		{ 18446744073709551615.0, "1.8446744073709552e+19" },
		{ 0.1, "0.1" },
		{ 4.2, "4.2" },
		{ 221.46, "221.46" },
		{ 123456.5, "123456.5" },
		{ 1234567.5, "1.2345675e+06" },
		{ 0.0001, "0.0001" },
		{ 0.00001, "1e-05" },
		{ 1.4920001376594882e-06, "1.4920001376594882e-06" },
		{ 0.30000000000000004, "0.30000000000000004" },
		{ 1.0 / 3, "0.3333333333333333" },
		{ 2.0 / 3, "0.6666666666666666" },
		{ 1e21, "1e+21" },
		{ 1.5e300, "1.5e+300" },
		{ 5e-324, "5e-324" },
		{ 1e100, "1e+100" },
		{ NAN, "NaN" },
		{ INFINITY, "+Inf" },
		{ -INFINITY, "-Inf" },
	};
	struct prom_buf b;

	(void)state;
	prom_buf_init(&b);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(value_str(&b, cases[i].v), cases[i].go);
	prom_buf_free(&b);
}

static void test_value_reference(void **state)
{
	struct prom_buf b;
	char want[64];
	unsigned long long x = 88172645463325252ULL;

	(void)state;
	prom_buf_init(&b);
	for (unsigned i = 0; i < 1000000; i++) {
		double v;

		/* xorshift64 */
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		switch (i % 8) {
		case 0:
			memcpy(&v, &x, sizeof(v));
			break;
		case 1:
			v = (double)(x % 100000000000ULL) / 100.0; /* cpu seconds */
			break;
		case 2:
			v = (double)(x >> (x & 63)); /* counters of any size */
			break;
		case 3:
			v = (double)(x % 1000000) / 1000.0 / 1000.0; /* pressure: us -> s */
			break;
		case 4:
			v = (double)(x % 1000000000ULL) * 1e-9; /* durations */
			break;
		case 5:
			v = (double)(int64_t)x / (double)(1ULL << (x % 60));
			break;
		case 6:
			v = (double)(x % 100000) * 1024.0; /* kB -> bytes */
			break;
		default:
			v = ldexp((double)(x % 1000), (int)(x % 2100) - 1075); /* subnormal to huge */
			break;
		}
		if (!isfinite(v))
			continue;
		reference(want, sizeof(want), v);
		if (strcmp(value_str(&b, v), want) != 0)
			fail_msg("%.17g: got %s, want %s", v, b.data, want);
	}
	prom_buf_free(&b);
}

static void test_family_sample(void **state)
{
	struct prom_buf b;

	(void)state;
	prom_buf_init(&b);
	prom_family(&b, "x_total", "counter", "a \\ b\nc \"d\"");
	prom_sample(&b, "x_total",
		    (const char *const[]){ "a", "q\"\\\nz", "skip", NULL, "b", "", NULL }, 1.5);
	prom_sample(&b, "x_total", NULL, 3);
	prom_sample(&b, "x_total", (const char *const[]){ "a", NULL, NULL }, -7);
	assert_string_equal(b.data, "# HELP x_total a \\\\ b\\nc \"d\"\n# TYPE x_total counter\n"
				    "x_total{a=\"q\\\"\\\\\\nz\",b=\"\"} 1.5\nx_total 3\nx_total -7\n");
	prom_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_value_go),
		cmocka_unit_test(test_value_reference),
		cmocka_unit_test(test_family_sample),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
