/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the agent knows of a traced process, read from /proc and cached by pid. Main thread. */
#ifndef O11Y_PROC_H
#define O11Y_PROC_H

#include <stdbool.h>
#include <stdint.h>

#include "cgroup.h"
#include "config.h"
#include "span.h"

struct proc_info {
	uint32_t pid;
	uint64_t start_ticks;	      /* /proc/PID/stat starttime: tells a reused pid apart */
	uint64_t checked_ns;	      /* monotonic time of the last check */
	bool traced;		      /* passes --exe-name */
	char exe_name[SPAN_NAME_MAX]; /* base name of /proc/PID/exe, else comm */
	char
	    service_name[SPAN_NAME_MAX]; /* OTEL_SERVICE_NAME from its environment, else exe_name */
	bool service_from_env;		 /* service_name came from OTEL_SERVICE_NAME */
	struct cgroup_ident cg;		 /* its container and pod; re-read at each check */
};

/* exe_filter: NULL to trace every process, else the --exe-name list (not copied). */
void proc_init(const struct cfg_str_list *exe_filter);
/* The process, or NULL when it is filtered out. Never fails: unknown fields are defaulted. */
const struct proc_info *proc_lookup(uint32_t pid);
uint64_t proc_mono_ns(void);
void proc_fini(void);

#endif
