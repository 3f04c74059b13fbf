/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small helpers shared by every layer: cleanup attributes, sizes, string
 * lists and number parsing.  Nothing here logs.
 */
#ifndef MEMHP_UTIL_H
#define MEMHP_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define KiB (1024ULL)
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)
#define TiB (1024ULL * GiB)

#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __unused __attribute__((unused))
#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p)
{
	free(*(void **)p);
}

/* close() that never clobbers errno: the caller usually wants the first error */
static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		close(*fd);
		errno = saved;
	}
}

static inline void fclosep(FILE **f)
{
	if (*f) {
		int saved = errno;

		fclose(*f);
		errno = saved;
	}
}

static inline void closedirp(DIR **d)
{
	if (*d) {
		int saved = errno;

		closedir(*d);
		errno = saved;
	}
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)

/* Hand ownership out of a cleanup variable. */
#define TAKE_PTR(p)                     \
	({                              \
		__typeof__(p) _p = (p); \
		(p) = NULL;             \
		_p;                     \
	})
#define TAKE_FD(fd)             \
	({                      \
		int _fd = (fd); \
		(fd) = -1;      \
		_fd;            \
	})

static inline bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static inline bool startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Copy with truncation, always NUL-terminated; returns -ENAMETOOLONG if cut. */
int strscpy_safe(char *dst, const char *src, size_t size);

/* Strip leading/trailing whitespace in place; returns s. */
char *strstrip(char *s);

/*
 * Strict unsigned parse of the whole string (surrounding whitespace allowed):
 * base 0 accepts 0x.., base 16 accepts with or without 0x.  -EINVAL on garbage,
 * -ERANGE on overflow.
 */
int parse_u64(const char *s, int base, uint64_t *out);
int parse_int(const char *s, int *out);

/*
 * Sizes as operators write them: "4096", "128M", "128MiB", "2G", "1T", "0x8000000".
 * Suffixes are binary (K/M/G/T/P, optional "iB" or "B").
 */
int parse_size(const char *s, uint64_t *out);

/* "128M", "2G", "1.5G" style, exact where possible; returns buf. */
const char *format_size(uint64_t bytes, char *buf, size_t size);

/* Parse yes/no/true/false/1/0/on/off. */
int parse_bool(const char *s, bool *out);

/* Monotonic clock in milliseconds (actions and daemon only; policy never asks). */
uint64_t now_ms(void);
uint64_t now_us(void);
void sleep_ms(unsigned ms);

/* A growable list of owned strings, used for reasons and diagnostics. */
struct strv {
	char **v;
	size_t n;
};

int strv_push(struct strv *l, const char *s);
int strv_pushf(struct strv *l, const char *fmt, ...) __printf(2, 3);
int strv_vpushf(struct strv *l, const char *fmt, va_list ap);
void strv_clear(struct strv *l);

/* Grow *v (of *cap elements of size elsize) to hold at least n; zeroes new space. */
int grow_array(void **v, size_t *cap, size_t n, size_t elsize);
/*
 * The same without zeroing: for large arrays whose caller sets up each
 * element it uses.  Doubling the 65,536-block array and zeroing the new
 * half made 8 MiB resident that no block used yet.
 */
int grow_array_uninit(void **v, size_t *cap, size_t n, size_t elsize);

/* qsort()/bsearch() comparison of two uint64_t. */
int cmp_u64(const void *a, const void *b);

#endif
