// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Page-cache totals per service, their Prometheus families, request records into spans. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagecache.h"

#define PROC_BITS 12

bool pagecache_cfg_enabled;

static const struct opt pagecache_opts[] = {
    {.name = "page-cache-metrics",
     .env = "O11Y_PAGE_CACHE_METRICS",
     .type = OPT_BOOL,
     .dst = &pagecache_cfg_enabled,
     .def = "true",
     .help = "count page-cache hits and misses of file reads per host and service "
	     "(node_page_cache_*) and per HTTP request (o11y.page_cache.*, file.read spans)"},
};
const struct opt_table pagecache_opt_table = {"Page cache", pagecache_opts,
					      sizeof(pagecache_opts) / sizeof(pagecache_opts[0])};

struct pc_proc {
	uint32_t tgid;
	struct pc_proc *next;
	uint64_t lookups, misses; /* the largest kernel counts seen */
	unsigned svc;		  /* index into services */
	unsigned seen;		  /* pc_agg.gen when last reported */
};

struct pc_agg {
	struct pc_proc *procs[1u << PROC_BITS];
	struct pc_service *svc;
	unsigned nsvc, capsvc;
	unsigned gen; /* pc_agg_sweep() calls */
};

struct pc_agg *pc_agg_new(void)
{
	return calloc(1, sizeof(struct pc_agg));
}

void pc_agg_free(struct pc_agg *a)
{
	if (!a)
		return;
	for (unsigned i = 0; i < (1u << PROC_BITS); i++) {
		while (a->procs[i]) {
			struct pc_proc *p = a->procs[i];

			a->procs[i] = p->next;
			free(p);
		}
	}
	free(a->svc);
	free(a);
}

static unsigned proc_hash(uint32_t tgid)
{
	return (tgid * 2654435761u) >> (32 - PROC_BITS);
}

static struct pc_proc *proc_find(const struct pc_agg *a, uint32_t tgid)
{
	for (struct pc_proc *p = a->procs[proc_hash(tgid)]; p; p = p->next)
		if (p->tgid == tgid)
			return p;
	return NULL;
}

/* Index of the service named name, created when new; -ENOMEM. */
static int svc_index(struct pc_agg *a, const char *name)
{
	for (unsigned i = 0; i < a->nsvc; i++)
		if (!strcmp(a->svc[i].name, name))
			return (int)i;
	if (a->nsvc >= PC_MAX_SERVICES) {
		if (strcmp(name, "_other"))
			return svc_index(a, "_other");
		return (int)a->nsvc - 1; /* "_other" is then the last one */
	}
	if (a->nsvc == a->capsvc) {
		unsigned cap = a->capsvc ? 2 * a->capsvc : 16;
		struct pc_service *v = realloc(a->svc, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		a->svc = v;
		a->capsvc = cap;
	}
	memset(&a->svc[a->nsvc], 0, sizeof(a->svc[0]));
	snprintf(a->svc[a->nsvc].name, sizeof(a->svc[0].name), "%s", name);
	return (int)a->nsvc++;
}

int pc_agg_proc(struct pc_agg *a, uint32_t tgid, const char *service, uint64_t lookups,
		uint64_t misses)
{
	struct pc_proc *p = proc_find(a, tgid);
	struct pc_counts *c;
	uint64_t dl = 0, dm = 0;
	int i;

	i = svc_index(a, service && service[0] ? service : "unknown");
	if (i < 0)
		return i;
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return -ENOMEM;
		p->tgid = tgid;
		p->next = a->procs[proc_hash(tgid)];
		a->procs[proc_hash(tgid)] = p;
	}
	p->svc = (unsigned)i; /* after an exec, what grows from now on is the new program's */
	p->seen = a->gen;
	/* less than before: a thread exited while being read; its counts show next time */
	if (lookups > p->lookups) {
		dl = lookups - p->lookups;
		p->lookups = lookups;
	}
	if (misses > p->misses) {
		dm = misses - p->misses;
		p->misses = misses;
	}
	c = &a->svc[p->svc].c;
	pc_counts_update(c, c->lookups + dl, c->misses + dm);
	return 0;
}

bool pc_agg_known(const struct pc_agg *a, uint32_t tgid, char *service, unsigned size)
{
	const struct pc_proc *p = proc_find(a, tgid);

	if (p && service)
		snprintf(service, size, "%s", a->svc[p->svc].name);
	return p != NULL;
}

void pc_agg_forget(struct pc_agg *a, uint32_t tgid)
{
	struct pc_proc **pp = &a->procs[proc_hash(tgid)];

	while (*pp && (*pp)->tgid != tgid)
		pp = &(*pp)->next;
	if (*pp) {
		struct pc_proc *p = *pp;

		*pp = p->next;
		free(p);
	}
}

void pc_agg_sweep(struct pc_agg *a, bool (*gone)(uint32_t tgid))
{
	for (unsigned i = 0; i < (1u << PROC_BITS); i++) {
		struct pc_proc **pp = &a->procs[i];

		while (*pp) {
			struct pc_proc *p = *pp;

			if (p->seen != a->gen && gone(p->tgid)) {
				*pp = p->next;
				free(p);
			} else {
				pp = &p->next;
			}
		}
	}
	a->gen++;
}

static int svc_cmp(const void *x, const void *y)
{
	return strcmp(((const struct pc_service *)x)->name, ((const struct pc_service *)y)->name);
}

int pc_agg_services(struct pc_agg *a, struct pc_service **out, unsigned *n)
{
	*out = NULL;
	*n = 0;
	if (!a->nsvc)
		return 0;
	*out = malloc(a->nsvc * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	memcpy(*out, a->svc, a->nsvc * sizeof(**out));
	*n = a->nsvc;
	qsort(*out, *n, sizeof(**out), svc_cmp);
	return 0;
}

void pc_counts_update(struct pc_counts *c, uint64_t lookups, uint64_t misses)
{
	uint64_t hits = lookups > misses ? lookups - misses : 0;

	if (lookups > c->lookups)
		c->lookups = lookups;
	if (misses > c->misses)
		c->misses = misses;
	if (hits > c->hits)
		c->hits = hits;
}

int pc_prom_write(struct prom_buf *b, const struct pc_counts *host, const struct pc_service *svc,
		  unsigned n)
{
	prom_family(
	    b, "node_page_cache_hits_total", "counter",
	    "Pages file reads found in the page cache (read, sendfile, splice, mmap faults).");
	prom_sample(b, "node_page_cache_hits_total", NULL, (double)host->hits);
	prom_family(b, "node_page_cache_misses_total", "counter",
		    "Pages file reads had to read in (pages read ahead count when first read).");
	prom_sample(b, "node_page_cache_misses_total", NULL, (double)host->misses);
	prom_family(
	    b, "node_page_cache_service_hits_total", "counter",
	    "Page-cache hits of file reads by the processes of a service (as spans name it).");
	for (unsigned i = 0; i < n; i++) {
		const char *labels[] = {"service_name", svc[i].name, NULL};

		prom_sample(b, "node_page_cache_service_hits_total", labels, (double)svc[i].c.hits);
	}
	prom_family(b, "node_page_cache_service_misses_total", "counter",
		    "Page-cache misses of file reads by the processes of a service.");
	for (unsigned i = 0; i < n; i++) {
		const char *labels[] = {"service_name", svc[i].name, NULL};

		prom_sample(b, "node_page_cache_service_misses_total", labels,
			    (double)svc[i].c.misses);
	}
	return b->err;
}

void pc_req_to_span(const struct o11y_pc_req *r, const struct o11y_pc_path *paths,
		    struct http_span *s)
{
	unsigned n = r->nfiles < SPAN_FILES_MAX ? r->nfiles : SPAN_FILES_MAX;

	s->has_page_cache = true;
	s->pc_misses = r->misses;
	s->pc_hits = r->lookups > r->misses ? r->lookups - r->misses : 0;
	s->pc_files_dropped = r->files_dropped || r->nfiles > n;
	s->pc_nfiles = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		const struct o11y_pc_file *k = &r->files[i];
		const struct o11y_pc_path *path = paths ? &paths[i] : NULL;
		struct span_file_read *f = &s->pc_files[i];
		size_t len = path && path->len < O11Y_PC_PATH_MAX ? path->len : 0;

		memset(f, 0, sizeof(*f));
		f->start_ns = k->first_ns; /* monotonic here; the span assembly makes it wall */
		f->end_ns = k->last_ns;
		f->bytes = k->bytes;
		f->misses = k->misses;
		f->hits = k->lookups > k->misses ? k->lookups - k->misses : 0;
		/* no path known (evicted from the kernel's cache): all of it is missing */
		f->path_truncated = !len || (path->flags & O11Y_PC_PATH_TRUNCATED);
		if (len)
			memcpy(f->path, path->path, len);
		f->path[len] = '\0';
	}
}

static pc_snapshot_fn source_fn;
static uint64_t source_start_ns;

void pc_set_source(pc_snapshot_fn fn, uint64_t start_unix_ns)
{
	source_fn = fn;
	source_start_ns = start_unix_ns;
}

int pc_source_snapshot(struct pc_counts *host, struct pc_service **svc, unsigned *n,
		       uint64_t *start_unix_ns)
{
	*svc = NULL;
	*n = 0;
	if (!source_fn)
		return -ESRCH;
	*start_unix_ns = source_start_ns;
	return source_fn(host, svc, n);
}
