/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A small open-addressing hash map from byte-string keys to a 64-bit value, for the bounded
 * tables of routes and metric series. Not thread-safe: its owner locks.
 */
#ifndef O11Y_STRMAP_H
#define O11Y_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct strmap_ent {
	uint64_t hash;
	char *key; /* owned copy, NUL-terminated after len bytes; NULL: empty slot */
	size_t len;
	uint64_t val;
};

struct strmap {
	struct strmap_ent *e;
	unsigned cap, n;
};

uint64_t strmap_hash(const void *key, size_t len);
/* The entry for key, or NULL. */
struct strmap_ent *strmap_get(struct strmap *m, const void *key, size_t len);
/* The entry for key, added with val 0 when missing; NULL and -ENOMEM in errno on failure. */
struct strmap_ent *strmap_put(struct strmap *m, const void *key, size_t len);
void strmap_free(struct strmap *m);

#endif
