/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Settings of the agent core (user/main.c), shared with modules that need them. */
#ifndef O11Y_AGENT_H
#define O11Y_AGENT_H

#include <stdbool.h>

#include "config.h"

enum print_spans { PRINT_SPANS_OFF = 0, PRINT_SPANS_JSON, PRINT_SPANS_TEXT };
enum http_capture_mode { CAPTURE_AUTO = 0, CAPTURE_SOCK, CAPTURE_SYSCALLS, CAPTURE_OFF };

struct agent_config {
	char *log_level;
	int print_spans;	  /* enum print_spans */
	int http_capture;	  /* enum http_capture_mode */
	struct cfg_int_list pids; /* --pid */
	struct cfg_str_list exe_names;
	struct cfg_int_list ports;
	long long drain_ms;    /* ring-buffer drain period */
	long long ringbuf_kib; /* HTTP ring buffer size */
	char *tracefs;
};

extern struct agent_config agent_cfg;

#endif
