// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>

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
