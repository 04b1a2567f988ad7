/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* One line per event on stderr; the level is checked before anything is formatted. */
#ifndef O11Y_LOG_H
#define O11Y_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_current_level;

/* Parses "error|warn|info|debug"; returns 0 or -EINVAL. */
int log_parse_level(const char *s, enum log_level *out);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)                                                                              \
	do {                                                                                       \
		if (log_current_level >= LOG_WARN)                                                 \
			log_msg(LOG_WARN, __VA_ARGS__);                                            \
	} while (0)
#define log_info(...)                                                                              \
	do {                                                                                       \
		if (log_current_level >= LOG_INFO)                                                 \
			log_msg(LOG_INFO, __VA_ARGS__);                                            \
	} while (0)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_current_level >= LOG_DEBUG)                                                \
			log_msg(LOG_DEBUG, __VA_ARGS__);                                           \
	} while (0)

#endif
