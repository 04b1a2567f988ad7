// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * http.route templating. Spans arrive with the raw url.path; metrics and span names need a
 * low-cardinality template instead. User patterns are tried first, in the order given; then
 * each path segment that looks like an identifier is replaced by "{id}". A per-service cap on
 * distinct routes keeps a scanner or an unforeseen id format from growing the tables without
 * bound: past it, new routes become ROUTE_OVERFLOW.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "route.h"
#include "strmap.h"

#define ROUTE_MAX_SERVICES 1024 /* services with their own route set; later ones overflow */

struct route_cfg {
	struct cfg_str_list patterns;
	long long max_per_service;
};
static struct route_cfg route_cfg;

static int parse_route_opt(const struct opt *o, const char *key, const char *val, bool negated);

static const struct opt route_opts[] = {
    {.name = "route",
     .env = "O11Y_ROUTES",
     .type = OPT_CUSTOM,
     .parse = parse_route_opt,
     .dst = &route_cfg.patterns,
     .metavar = "PATTERN",
     .help = "http.route template such as /api/orders/{id}: a {name} segment matches one "
	     "path segment, a final {name...} the rest; wins over the built-in id detection"},
    {.name = "max-routes-per-service",
     .env = "O11Y_MAX_ROUTES_PER_SERVICE",
     .type = OPT_INT,
     .dst = &route_cfg.max_per_service,
     .def = "500",
     .min = 1,
     .max = 100000,
     .metavar = "N",
     .help = "distinct http.route values kept per service; later new ones become "
	     "\"" ROUTE_OVERFLOW "\""},
};
const struct opt_table route_opt_table = {"Routes", route_opts,
					  sizeof(route_opts) / sizeof(route_opts[0])};

struct pattern {
	char *text; /* the route reported on a match */
	unsigned nseg;
	char **seg; /* NULL: a {name} wildcard */
	bool rest;  /* the last segment is {name...}: matches one or more remaining segments */
};

static struct pattern patterns[ROUTE_MAX_PATTERNS];
static unsigned npatterns;
static unsigned max_per_service = 500;
static struct strmap routes;   /* "service\0route" of every route handed out */
static struct strmap services; /* service -> number of its routes */
static uint64_t folded;

static int pattern_compile(struct pattern *p, const char *text);
static void pattern_free(struct pattern *p);

/* --route PATTERN (repeatable) and O11Y_ROUTES=P1,P2: checked here so a bad one exits 2. */
static int parse_route_opt(const struct opt *o, const char *key, const char *val, bool negated)
{
	struct cfg_str_list *l = o->dst;
	char *copy, *tok, *save = NULL;
	int err = 0;

	(void)key;
	if (!val || negated)
		return -EINVAL;
	copy = strdup(val);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok && !err; tok = strtok_r(NULL, ",", &save)) {
		struct pattern p;

		if (l->n == ROUTE_MAX_PATTERNS || pattern_compile(&p, tok)) {
			fprintf(stderr,
				"o11y-ebpf: --route: '%s' is not a route pattern like "
				"/api/orders/{id} (at most %d)\n",
				tok, ROUTE_MAX_PATTERNS);
			err = -EINVAL;
			break;
		}
		pattern_free(&p);
		l->v[l->n] = strdup(tok);
		if (!l->v[l->n])
			err = -ENOMEM;
		else
			l->n++;
	}
	free(copy);
	return err;
}

uint64_t route_folded_total(void)
{
	return __atomic_load_n(&folded, __ATOMIC_RELAXED);
}

static void pattern_free(struct pattern *p)
{
	for (unsigned i = 0; i < p->nseg; i++)
		free(p->seg[i]);
	free(p->seg);
	free(p->text);
	memset(p, 0, sizeof(*p));
}

static int pattern_compile(struct pattern *p, const char *text)
{
	const char *s = text;

	memset(p, 0, sizeof(*p));
	if (text[0] != '/' || strlen(text) >= SPAN_ROUTE_MAX)
		return -EINVAL;
	p->text = strdup(text);
	if (!p->text)
		return -ENOMEM;
	while (*s == '/') {
		const char *start = ++s;
		size_t n;
		char **seg;

		s += strcspn(s, "/");
		n = s - start;
		if (p->rest) /* {name...} must be last */
			goto err_inval;
		seg = realloc(p->seg, (p->nseg + 1) * sizeof(*seg));
		if (!seg)
			goto err_nomem;
		p->seg = seg;
		if (n >= 2 && start[0] == '{' && start[n - 1] == '}') {
			p->rest = n >= 5 && !memcmp(start + n - 4, "...}", 4);
			seg[p->nseg++] = NULL;
		} else {
			if (memchr(start, '{', n) || memchr(start, '}', n))
				goto err_inval;
			seg[p->nseg] = strndup(start, n);
			if (!seg[p->nseg])
				goto err_nomem;
			p->nseg++;
		}
	}
	return 0;

err_inval:
	pattern_free(p);
	return -EINVAL;
err_nomem:
	pattern_free(p);
	return -ENOMEM;
}

static bool pattern_match(const struct pattern *p, const char *path)
{
	const char *s = path;
	unsigned i;

	for (i = 0; i < p->nseg; i++) {
		const char *start;
		size_t n;

		if (*s != '/')
			return false;
		start = ++s;
		s += strcspn(s, "/");
		n = s - start;
		if (!p->seg[i]) {
			if (!n)
				return false;
			if (p->rest && i == p->nseg - 1)
				return true;
		} else if (strlen(p->seg[i]) != n || memcmp(p->seg[i], start, n)) {
			return false;
		}
	}
	return *s == '\0';
}

/* A segment that names one instance rather than a kind of resource. */
static bool seg_is_id(const char *s, size_t n)
{
	size_t digits = 0, hex = 0, alpha = 0, punct = 0;

	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (isdigit(c)) {
			digits++;
			hex++;
		} else if (isalpha(c)) {
			alpha++;
			if (isxdigit(c))
				hex++;
		} else if (strchr("-_.=+~%", c)) {
			punct++;
		} else {
			return false;
		}
	}
	if (!digits)
		return false;
	/* 123, 2024-05-01, 1.5 */
	if (digits + punct == n)
		return true;
	/* 5f0c3a9be2d1..., sha sums */
	if (hex == n && n >= 8)
		return true;
	/* 550e8400-e29b-41d4-a716-446655440000 */
	if (n == 36 && hex == 32 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-')
		return true;
	/* base64/base64url tokens, ULIDs, session ids */
	if (n >= 16 && alpha)
		return true;
	return false;
}

void route_template(const char *path, char *out, unsigned size)
{
	const char *s = path;
	size_t len = 0;

	if (!size)
		return;
	out[0] = '\0';
	if (*s != '/') { /* "*" (OPTIONS) or an absolute-form target: keep, truncated */
		len = strnlen(path, size - 1);
		memcpy(out, path, len);
		out[len] = '\0';
		return;
	}
	while (*s == '/') {
		const char *start = ++s;
		size_t n;

		s += strcspn(s, "/");
		n = s - start;
		if (seg_is_id(start, n)) {
			start = ROUTE_ID;
			n = sizeof(ROUTE_ID) - 1;
		}
		if (len + 1 + n >= size)
			break;
		out[len++] = '/';
		memcpy(out + len, start, n);
		len += n;
		out[len] = '\0';
	}
}

int route_setup(const char *const *pats, unsigned n, unsigned max_routes)
{
	int err = 0;

	route_fini();
	if (n > ROUTE_MAX_PATTERNS)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		err = pattern_compile(&patterns[i], pats[i]);
		if (err) {
			log_error("route: '%s' is not a route pattern (/a/{id}/b, {rest...} last)",
				  pats[i]);
			route_fini();
			return err;
		}
		npatterns++;
	}
	max_per_service = max_routes;
	return 0;
}

int route_init(void)
{
	int err = route_setup((const char *const *)route_cfg.patterns.v, route_cfg.patterns.n,
			      (unsigned)route_cfg.max_per_service);

	/* the texts are compiled copies now; the config does not free OPT_CUSTOM values */
	for (unsigned i = 0; i < route_cfg.patterns.n; i++)
		free(route_cfg.patterns.v[i]);
	route_cfg.patterns.n = 0;
	if (!err)
		log_info("route: %u pattern(s), at most %u routes per service, then \"%s\"",
			 npatterns, max_per_service, ROUTE_OVERFLOW);
	return err;
}

void route_fini(void)
{
	for (unsigned i = 0; i < npatterns; i++)
		pattern_free(&patterns[i]);
	npatterns = 0;
	strmap_free(&routes);
	strmap_free(&services);
	__atomic_store_n(&folded, 0, __ATOMIC_RELAXED);
}

/* Admits route for the service under the cap; false when it has to fold. */
static bool admit(const char *service, const char *route)
{
	size_t sl = strlen(service), rl = strlen(route);
	char key[SPAN_NAME_MAX + SPAN_ROUTE_MAX + 1];
	struct strmap_ent *svc, *r;

	if (sl >= SPAN_NAME_MAX || rl >= SPAN_ROUTE_MAX)
		return false;
	memcpy(key, service, sl + 1);
	memcpy(key + sl + 1, route, rl);
	if (strmap_get(&routes, key, sl + 1 + rl))
		return true;
	svc = strmap_get(&services, service, sl);
	if (!svc) {
		if (services.n >= ROUTE_MAX_SERVICES)
			return false;
		svc = strmap_put(&services, service, sl);
		if (!svc)
			return false;
	}
	if (svc->val >= max_per_service)
		return false;
	r = strmap_put(&routes, key, sl + 1 + rl);
	if (!r)
		return false;
	svc->val++;
	return true;
}

void route_fill(struct http_span *s)
{
	for (unsigned i = 0; i < npatterns; i++) {
		if (pattern_match(&patterns[i], s->path)) {
			snprintf(s->route, sizeof(s->route), "%s", patterns[i].text);
			return;
		}
	}
	route_template(s->path, s->route, sizeof(s->route));
	if (!admit(s->service_name, s->route)) {
		snprintf(s->route, sizeof(s->route), "%s", ROUTE_OVERFLOW);
		__atomic_fetch_add(&folded, 1, __ATOMIC_RELAXED);
	}
}
