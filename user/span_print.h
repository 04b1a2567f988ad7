/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* --print-spans: one JSON object (then one per file.read child) or one text line per span. */
#ifndef O11Y_SPAN_PRINT_H
#define O11Y_SPAN_PRINT_H

#include <stdbool.h>
#include <stdio.h>

#include "span.h"

/* Formats into buf (NUL-terminated, with the trailing newline); returns the length. */
size_t span_format_json(const struct http_span *s, char *buf, size_t size);
size_t span_format_text(const struct http_span *s, char *buf, size_t size);
/* The child span "file.read" of s->pc_files[i] (kind internal, parent s), as one JSON line. */
size_t span_format_file_json(const struct http_span *s, unsigned i, char *buf, size_t size);
void span_print(FILE *f, const struct http_span *s, bool json);

#endif
