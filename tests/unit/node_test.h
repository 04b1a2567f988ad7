/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Shared by the test_node_*.c tests: point the collectors at tests/fixtures/node. */
#ifndef O11Y_NODE_TEST_H
#define O11Y_NODE_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "node/node.h"
#include "prom.h"

#define FIX "tests/fixtures/node"

/* the core tables live in main.c, which unit tests do not link */
__attribute__((weak)) const struct opt_table core_opt_table = { "Agent", NULL, 0 };
__attribute__((weak)) const struct opt_table http_opt_table = { "HTTP capture", NULL, 0 };

static int node_fixture_setup(void **state)
{
	char *argv[] = { "o11y-ebpf",
			 "--path.procfs=" FIX "/proc",
			 "--path.sysfs=" FIX "/sys",
			 "--path.rootfs=" FIX "/root",
			 "--path.udev.data=" FIX "/udev",
			 "--collector.textfile.directory=" FIX "/textfile",
			 "--no-collector.netdev.netlink",
			 "--no-collector.netclass.netlink",
			 NULL };

	(void)state;
	if (config_parse(8, argv) != 0 || node_init() != 0)
		return -1;
	return 0;
}

static int node_fixture_teardown(void **state)
{
	(void)state;
	node_fini();
	config_free();
	return 0;
}

/* Runs one collector; returns its output (caller frees) and its return value in *err. */
static char *collect(int (*fn)(struct prom_buf *), int *err)
{
	struct prom_buf b;

	prom_buf_init(&b);
	*err = fn(&b);
	assert_int_equal(b.err, 0);
	return b.data ? b.data : strdup("");
}

/* The output holds this exact line. */
#define assert_line(out, line)                                                                     \
	do {                                                                                       \
		const char *o_ = (out), *l_ = (line);                                              \
		size_t n_ = strlen(l_);                                                            \
		const char *p_ = o_;                                                               \
		int found_ = 0;                                                                    \
		while ((p_ = strstr(p_, l_))) {                                                    \
			if ((p_ == o_ || p_[-1] == '\n') && p_[n_] == '\n') {                      \
				found_ = 1;                                                        \
				break;                                                             \
			}                                                                          \
			p_++;                                                                      \
		}                                                                                  \
		if (!found_)                                                                       \
			fail_msg("line not found: %s\n--- output ---\n%s", l_, o_);               \
	} while (0)

#define assert_no_substr(out, s)                                                                   \
	do {                                                                                       \
		if (strstr((out), (s)))                                                            \
			fail_msg("unexpected '%s' in:\n%s", (s), (out));                           \
	} while (0)

#endif
