// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Attaches bench/pagecache/pc_floor.bpf.c, says "ready", and holds it until SIGINT/SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "pc_floor.skel.h"

int main(void)
{
	struct pc_floor_bpf *skel;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	skel = pc_floor_bpf__open_and_load();
	if (!skel || pc_floor_bpf__attach(skel)) {
		fprintf(stderr, "pc-floor: cannot load or attach the empty program\n");
		pc_floor_bpf__destroy(skel);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	sigwait(&set, &sig);
	pc_floor_bpf__destroy(skel);
	return 0;
}
