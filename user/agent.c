// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The agent core's settings: its option tables (kept out of main.c so unit tests link them). */
#include <stddef.h>

#include "agent.h"

struct agent_config agent_cfg;

static const char *const print_choices[] = {"off", "json", "text", NULL};
static const char *const capture_choices[] = {"auto", "sock", "syscalls", "off", NULL};

static const struct opt core_opts[] = {
    {.name = "log-level",
     .env = "O11Y_LOG_LEVEL",
     .type = OPT_STR,
     .dst = &agent_cfg.log_level,
     .def = "info",
     .metavar = "LEVEL",
     .help = "error, warn, info or debug"},
    {.name = "print-spans",
     .env = "O11Y_PRINT_SPANS",
     .type = OPT_ENUM,
     .dst = &agent_cfg.print_spans,
     .def = "off",
     .choices = print_choices,
     .metavar = "FORMAT",
     .help = "write each finished span to stdout, one per line"},
    {.name = "tracefs",
     .env = "O11Y_TRACEFS",
     .type = OPT_STR,
     .dst = &agent_cfg.tracefs,
     .def = "/sys/kernel/tracing",
     .metavar = "DIR",
     .help = "where tracefs is (mounted there when it is not)"},
    {.name = "drain-interval-ms",
     .env = "O11Y_DRAIN_INTERVAL_MS",
     .type = OPT_INT,
     .dst = &agent_cfg.drain_ms,
     .def = "25",
     .min = 1,
     .max = 1000,
     .metavar = "MS",
     .help = "how often the ring buffer is drained (it also wakes the agent when 1/4 full)"},
    {.name = "ring-buffer-kib",
     .env = "O11Y_RING_BUFFER_KIB",
     .type = OPT_INT,
     .dst = &agent_cfg.ringbuf_kib,
     .def = "4096",
     .min = 256,
     .max = 262144,
     .metavar = "KIB",
     .help = "size of the HTTP events ring buffer, a power of two (it counts twice in RSS: "
	     "its pages are mapped twice)"},
};
const struct opt_table core_opt_table = {"Agent", core_opts,
					 sizeof(core_opts) / sizeof(core_opts[0])};

static const struct opt http_opts[] = {
    {.name = "http-capture",
     .env = "O11Y_HTTP_CAPTURE",
     .type = OPT_ENUM,
     .dst = &agent_cfg.http_capture,
     .def = "auto",
     .choices = capture_choices,
     .metavar = "MODE",
     .help = "HTTP capture: auto (socket tracepoints where the kernel has them, else "
	     "syscall tracepoints), sock, syscalls, or off"},
    {.name = "pid",
     .env = "O11Y_PID",
     .type = OPT_LIST_INT,
     .dst = &agent_cfg.pids,
     .min = 1,
     .max = 4194304,
     .metavar = "PID",
     .help = "trace only these server processes"},
    {.name = "exe-name",
     .env = "O11Y_EXE_NAME",
     .type = OPT_LIST_STR,
     .dst = &agent_cfg.exe_names,
     .metavar = "NAME",
     .help = "trace only processes whose executable has this base name"},
    {.name = "port",
     .env = "O11Y_PORT",
     .type = OPT_LIST_INT,
     .dst = &agent_cfg.ports,
     .min = 1,
     .max = 65535,
     .metavar = "PORT",
     .help = "trace only servers listening on this port"},
};
const struct opt_table http_opt_table = {"HTTP capture", http_opts,
					 sizeof(http_opts) / sizeof(http_opts[0])};
