// SPDX-License-Identifier: GPL-2.0-or-later
#include <inttypes.h>

#include "idxset.h"
#include "util.h"

static uint64_t next_gen(void)
{
	static uint64_t gen;

	return __atomic_add_fetch(&gen, 1, __ATOMIC_RELAXED);
}

/* First position whose value is >= i. */
static size_t lower_bound(const struct idxset *s, uint64_t i)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid] < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool idxset_has(const struct idxset *s, uint64_t i)
{
	size_t p = lower_bound(s, i);

	return p < s->n && s->v[p] == i;
}

int idxset_add(struct idxset *s, uint64_t i)
{
	size_t p = lower_bound(s, i);
	int r;

	if (p < s->n && s->v[p] == i)
		return 0;
	r = grow_array((void **)&s->v, &s->cap, s->n + 1, sizeof(*s->v));
	if (r < 0)
		return r;
	memmove(&s->v[p + 1], &s->v[p], (s->n - p) * sizeof(*s->v));
	s->v[p] = i;
	s->n++;
	s->gen = next_gen();
	return 1;
}

void idxset_del(struct idxset *s, uint64_t i)
{
	size_t p = lower_bound(s, i);

	if (p < s->n && s->v[p] == i) {
		memmove(&s->v[p], &s->v[p + 1], (s->n - p - 1) * sizeof(*s->v));
		s->n--;
		s->gen = next_gen();
	}
}

void idxset_clear(struct idxset *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
	s->gen = next_gen();
}

int idxset_format(const struct idxset *s, char **out)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < s->n;) {
		size_t j = i;

		while (j + 1 < s->n && s->v[j + 1] == s->v[j] + 1)
			j++;
		fprintf(f, "%s%" PRIu64, i ? "," : "", s->v[i]);
		if (j > i)
			fprintf(f, "-%" PRIu64, s->v[j]);
		i = j + 1;
	}
	if (fclose(f) != 0 || !buf) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	return 0;
}

/* Most members a parsed set may have (the whole text, not one range). */
#define IDXSET_PARSE_MAX ((size_t)1 << 24)

int idxset_parse(const char *text, struct idxset *s)
{
	_cleanup_free_ char *copy = strdup(text);
	char *save = NULL, *tok;
	uint64_t last = 0;
	bool first = true;
	int r;

	if (!copy)
		return -ENOMEM;
	idxset_clear(s);
	if (!*copy)
		return 0;
	/* strtok_r would skip empty fields: check the separators first */
	if (copy[0] == ',' || copy[strlen(copy) - 1] == ',' || strstr(copy, ",,"))
		return -EINVAL;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-');
		uint64_t a, b;

		if (dash) {
			*dash = '\0';
			if (parse_u64(tok, 10, &a) < 0 || parse_u64(dash + 1, 10, &b) < 0 || b <= a)
				goto bad;
		} else {
			if (parse_u64(tok, 10, &a) < 0)
				goto bad;
			b = a;
		}
		/* not ascending, or should have been merged (nothing follows UINT64_MAX) */
		if (!first && (last == UINT64_MAX || a <= last + 1))
			goto bad;
		/* 16M blocks in all: far beyond any machine; refuse to allocate */
		if (b - a >= IDXSET_PARSE_MAX - s->n)
			goto bad;
		r = grow_array((void **)&s->v, &s->cap, s->n + (size_t)(b - a) + 1, sizeof(*s->v));
		if (r < 0) {
			idxset_clear(s);
			return r;
		}
		for (uint64_t i = a;; i++) {
			s->v[s->n++] = i;
			if (i == b)
				break;
		}
		last = b;
		first = false;
	}
	s->gen = next_gen();
	return 0;
bad:
	idxset_clear(s);
	return -EINVAL;
}
