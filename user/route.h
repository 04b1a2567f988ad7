/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * http.route for captured requests, with bounded cardinality. A user pattern (--route
 * /api/orders/{id}) that matches the path wins; otherwise id-like segments (numbers, UUIDs,
 * long hex, base64-ish tokens) become "{id}". Each service keeps at most
 * --max-routes-per-service distinct routes; later new ones fold into ROUTE_OVERFLOW and are
 * counted. Main thread only, except route_folded_total().
 */
#ifndef O11Y_ROUTE_H
#define O11Y_ROUTE_H

#include <stdint.h>

#include "span.h"

#define ROUTE_OVERFLOW "/{overflow}"
#define ROUTE_ID "{id}"
#define ROUTE_MAX_PATTERNS 64

/* Compiles the patterns from the config. Returns 0 or -EINVAL (logged) for a bad pattern. */
int route_init(void);
/* Same, with explicit settings (tests). */
int route_setup(const char *const *patterns, unsigned n, unsigned max_per_service);
void route_fini(void);
/* Sets s->route from s->service_name and s->path. */
void route_fill(struct http_span *s);
/* Templates path with the heuristics only (no user patterns, no cap). */
void route_template(const char *path, char *out, unsigned size);
/* Requests whose new route was folded into ROUTE_OVERFLOW; any thread. */
uint64_t route_folded_total(void);

#endif
