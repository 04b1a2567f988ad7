// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "span.h"

void span_name(const struct http_span *s, char *buf, unsigned size)
{
	if (s->route[0])
		snprintf(buf, size, "%s %s", s->method, s->route);
	else
		snprintf(buf, size, "%s", s->method);
}

void span_hex(const uint8_t *id, unsigned n, char *buf)
{
	static const char hex[] = "0123456789abcdef";

	for (unsigned i = 0; i < n; i++) {
		buf[2 * i] = hex[id[i] >> 4];
		buf[2 * i + 1] = hex[id[i] & 15];
	}
	buf[2 * n] = '\0';
}

size_t span_size(const struct http_span *s)
{
	unsigned n = s->pc_nfiles < SPAN_FILES_MAX ? s->pc_nfiles : SPAN_FILES_MAX;

	return offsetof(struct http_span, pc_files) + n * sizeof(s->pc_files[0]);
}

void span_copy(struct http_span *dst, const struct http_span *src)
{
	memcpy(dst, src, span_size(src));
}

void span_strcpy(char *dst, const char *src, size_t size)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}
