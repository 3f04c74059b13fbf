// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Small shared helpers: strings, strict number and size parsing, string lists.
 * Nothing here logs; everything returns >= 0 or -errno.
 */
#include <ctype.h>
#include <limits.h>
#include <time.h>

#include "util.h"

int strscpy_safe(char *dst, const char *src, size_t size)
{
	size_t len;

	if (!size)
		return -ENAMETOOLONG;
	len = strlen(src);
	if (len >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return -ENAMETOOLONG;
	}
	memcpy(dst, src, len + 1);
	return 0;
}

char *strstrip(char *s)
{
	char *start = s, *end;
	size_t len;

	while (isspace((unsigned char)*start))
		start++;
	len = strlen(start);
	end = start + len;
	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	len = end - start;
	if (start != s)
		memmove(s, start, len);
	s[len] = '\0';
	return s;
}

static const char *skip_space(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

/*
 * Parse digits of `base` at *sp, advancing *sp.  At least one digit is
 * required.  No sign, no prefix handling.
 */
static int parse_digits(const char **sp, unsigned base, uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;
	bool overflow = false;
	int d;

	if (digit_value(*s) >= (int)base)
		return -EINVAL;
	while ((d = digit_value(*s)) < (int)base) {
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			overflow = true;
		else
			v = v * base + (uint64_t)d;
		s++;
	}
	*sp = s;
	if (overflow)
		return -ERANGE;
	*out = v;
	return 0;
}

static bool has_hex_prefix(const char *s)
{
	return s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

/*
 * Base 0: "0x" means hex, anything else is decimal.  Unlike strtoull() a
 * leading 0 does not switch to octal: "010" typed by an operator means ten.
 */
int parse_u64(const char *s, int base, uint64_t *out)
{
	uint64_t v;
	int r;

	if (!s || !out)
		return -EINVAL;
	if (base != 0 && base != 10 && base != 16 && base != 8 && base != 2)
		return -EINVAL;
	s = skip_space(s);
	if (base == 0) {
		if (has_hex_prefix(s)) {
			base = 16;
			s += 2;
		} else {
			base = 10;
		}
	} else if (base == 16 && has_hex_prefix(s)) {
		s += 2;
	}
	r = parse_digits(&s, base, &v);
	if (r < 0)
		return r;
	s = skip_space(s);
	if (*s)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_int(const char *s, int *out)
{
	bool neg = false;
	uint64_t v;
	int r;

	if (!s || !out)
		return -EINVAL;
	s = skip_space(s);
	if (*s == '-' || *s == '+') {
		neg = *s == '-';
		s++;
	}
	r = parse_digits(&s, 10, &v);
	if (r < 0)
		return r;
	s = skip_space(s);
	if (*s)
		return -EINVAL;
	if (neg) {
		if (v > (uint64_t)INT_MAX + 1)
			return -ERANGE;
		*out = (int)-(int64_t)v;
	} else {
		if (v > INT_MAX)
			return -ERANGE;
		*out = (int)v;
	}
	return 0;
}

static const char size_suffixes[] = "KMGTP";

int parse_size(const char *s, uint64_t *out)
{
	uint64_t whole, frac = 0, frac_div = 1, mult = 1;
	const char *p;
	int r;

	if (!s || !out)
		return -EINVAL;
	s = skip_space(s);
	if (has_hex_prefix(s)) {
		/* Hex is plain bytes, no suffix. */
		return parse_u64(s, 16, out);
	}
	r = parse_digits(&s, 10, &whole);
	if (r < 0)
		return r;
	if (*s == '.') {
		/* "1.5G": only accepted when the result is a whole number of bytes. */
		s++;
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		while (isdigit((unsigned char)*s)) {
			if (frac_div >= 1000000000ULL)
				return -EINVAL;
			frac = frac * 10 + (uint64_t)(*s - '0');
			frac_div *= 10;
			s++;
		}
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s) {
		p = strchr(size_suffixes, toupper((unsigned char)*s));
		if (p) {
			for (const char *q = size_suffixes; q <= p; q++)
				mult *= 1024;
			s++;
			if ((s[0] == 'i' || s[0] == 'I') && (s[1] == 'B' || s[1] == 'b'))
				s += 2;
			else if (s[0] == 'B' || s[0] == 'b')
				s++;
		} else if (*s == 'B' || *s == 'b') {
			s++;
		}
	}
	s = skip_space(s);
	if (*s)
		return -EINVAL;
	if (frac_div > 1 && mult == 1)
		return -EINVAL;
	if (whole > UINT64_MAX / mult)
		return -ERANGE;
	whole *= mult;
	if (frac) {
		/* mult <= 2^50 and frac < 10^9 < 2^30: the product fits. */
		uint64_t f = frac * mult;

		if (f % frac_div)
			return -EINVAL;
		f /= frac_div;
		if (whole > UINT64_MAX - f)
			return -ERANGE;
		whole += f;
	}
	*out = whole;
	return 0;
}

/*
 * Pick the largest unit the value reaches.  Exact values print as "128M";
 * values exact to one decimal as "1.5G"; values exact in a smaller unit with
 * a short number as "1152M" or "4097"; everything else rounded to one decimal.
 */
const char *format_size(uint64_t bytes, char *buf, size_t size)
{
	static const char *const sfx[] = { "", "K", "M", "G", "T", "P" };
	uint64_t unit[ARRAY_SIZE(sfx)];
	int top = 0;
	uint64_t u, whole, rem, tenth;

	if (!buf || !size)
		return buf;
	unit[0] = 1;
	for (size_t i = 1; i < ARRAY_SIZE(sfx); i++)
		unit[i] = unit[i - 1] * 1024;
	while (top + 1 < (int)ARRAY_SIZE(sfx) && bytes >= unit[top + 1])
		top++;
	u = unit[top];
	whole = bytes / u;
	rem = bytes % u;
	if (!rem) {
		snprintf(buf, size, "%llu%s", (unsigned long long)whole, sfx[top]);
		return buf;
	}
	/* rem < u <= 2^50, so rem * 10 cannot overflow. */
	if ((rem * 10) % u == 0) {
		snprintf(buf, size, "%llu.%llu%s", (unsigned long long)whole,
			 (unsigned long long)(rem * 10 / u), sfx[top]);
		return buf;
	}
	for (int i = top - 1; i >= 0; i--) {
		if (bytes % unit[i] == 0 && bytes / unit[i] < 10000) {
			snprintf(buf, size, "%llu%s", (unsigned long long)(bytes / unit[i]),
				 sfx[i]);
			return buf;
		}
	}
	tenth = (rem * 10 + u / 2) / u;
	if (tenth >= 10) {
		whole++;
		tenth -= 10;
	}
	snprintf(buf, size, "%llu.%llu%s", (unsigned long long)whole, (unsigned long long)tenth,
		 sfx[top]);
	return buf;
}

int parse_bool(const char *s, bool *out)
{
	static const struct {
		const char *word;
		bool val;
	} words[] = {
		{ "yes", true }, { "no", false }, { "true", true }, { "false", false },
		{ "1", true },	 { "0", false },  { "on", true },   { "off", false },
		{ "y", true },	 { "n", false },
	};
	char tmp[16];

	if (!s || !out)
		return -EINVAL;
	if (strscpy_safe(tmp, s, sizeof(tmp)) < 0)
		return -EINVAL;
	strstrip(tmp);
	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		if (!strcasecmp(tmp, words[i].word)) {
			*out = words[i].val;
			return 0;
		}
	}
	return -EINVAL;
}

uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t now_ms(void)
{
	return now_us() / 1000;
}

void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int strv_push(struct strv *l, const char *s)
{
	char *dup, **v;

	if (!l || !s)
		return -EINVAL;
	dup = strdup(s);
	if (!dup)
		return -ENOMEM;
	if (l->n >= SIZE_MAX / sizeof(char *) - 2) {
		free(dup);
		return -ENOMEM;
	}
	/* Keep the array NULL-terminated so it can be iterated either way. */
	v = realloc(l->v, (l->n + 2) * sizeof(char *));
	if (!v) {
		free(dup);
		return -ENOMEM;
	}
	v[l->n++] = dup;
	v[l->n] = NULL;
	l->v = v;
	return 0;
}

int strv_vpushf(struct strv *l, const char *fmt, va_list ap)
{
	_cleanup_free_ char *s = NULL;

	if (!l || !fmt)
		return -EINVAL;
	if (vasprintf(&s, fmt, ap) < 0) {
		s = NULL;
		return -ENOMEM;
	}
	return strv_push(l, s);
}

int strv_pushf(struct strv *l, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = strv_vpushf(l, fmt, ap);
	va_end(ap);
	return r;
}

void strv_clear(struct strv *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int grow(void **v, size_t *cap, size_t n, size_t elsize, bool zero)
{
	size_t newcap;
	void *p;

	if (!v || !cap || !elsize)
		return -EINVAL;
	if (n <= *cap)
		return 0;
	newcap = *cap ? *cap : 4;
	while (newcap < n) {
		if (newcap > SIZE_MAX / 2)
			return -ENOMEM;
		newcap *= 2;
	}
	if (newcap > SIZE_MAX / elsize)
		return -ENOMEM;
	p = realloc(*v, newcap * elsize);
	if (!p)
		return -ENOMEM;
	if (zero)
		memset((char *)p + *cap * elsize, 0, (newcap - *cap) * elsize);
	*v = p;
	*cap = newcap;
	return 0;
}

int grow_array(void **v, size_t *cap, size_t n, size_t elsize)
{
	return grow(v, cap, n, elsize, true);
}

int grow_array_uninit(void **v, size_t *cap, size_t n, size_t elsize)
{
	return grow(v, cap, n, elsize, false);
}
