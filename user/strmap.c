// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

uint64_t strmap_hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static struct strmap_ent *find(struct strmap_ent *e, unsigned cap, uint64_t h, const void *key,
			       size_t len)
{
	unsigned i = (unsigned)h & (cap - 1);

	for (;;) {
		if (!e[i].key || (e[i].hash == h && e[i].len == len && !memcmp(e[i].key, key, len)))
			return &e[i];
		i = (i + 1) & (cap - 1);
	}
}

struct strmap_ent *strmap_get(struct strmap *m, const void *key, size_t len)
{
	struct strmap_ent *e;

	if (!m->cap)
		return NULL;
	e = find(m->e, m->cap, strmap_hash(key, len), key, len);
	return e->key ? e : NULL;
}

static int grow(struct strmap *m)
{
	unsigned cap = m->cap ? m->cap * 2 : 64;
	struct strmap_ent *e = calloc(cap, sizeof(*e));

	if (!e)
		return -ENOMEM;
	for (unsigned i = 0; i < m->cap; i++) {
		if (m->e[i].key)
			*find(e, cap, m->e[i].hash, m->e[i].key, m->e[i].len) = m->e[i];
	}
	free(m->e);
	m->e = e;
	m->cap = cap;
	return 0;
}

struct strmap_ent *strmap_put(struct strmap *m, const void *key, size_t len)
{
	uint64_t h = strmap_hash(key, len);
	struct strmap_ent *e;

	if ((m->n + 1) * 4 > m->cap * 3 && grow(m)) {
		errno = ENOMEM;
		return NULL;
	}
	e = find(m->e, m->cap, h, key, len);
	if (e->key)
		return e;
	e->key = malloc(len + 1);
	if (!e->key) {
		errno = ENOMEM;
		return NULL;
	}
	memcpy(e->key, key, len);
	e->key[len] = '\0';
	e->len = len;
	e->hash = h;
	e->val = 0;
	m->n++;
	return e;
}

void strmap_free(struct strmap *m)
{
	for (unsigned i = 0; i < m->cap; i++)
		free(m->e[i].key);
	free(m->e);
	m->e = NULL;
	m->cap = m->n = 0;
}
