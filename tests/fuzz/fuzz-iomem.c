// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * /proc/iomem parser (src/lib/iomem.c).
 *
 * Invariants: every resource's parent precedes it and sits exactly one level
 * up; top-level resources have no parent; start <= end; names are
 * NUL-terminated within IOMEM_NAME_MAX; the bad-line count and first bad line
 * agree; addresses_hidden means every address printed was 0; a lookup of each
 * resource's own range finds a resource containing it.  Parsing the input
 * from its first half (as iomem_parse_from() does after a hot-add) gives
 * exactly the parse of the whole.
 */
#include "iomem.h"
#include "fuzz.h"

/* The parse of text reusing that of its first half must be `whole`. */
static void check_from(const char *text, const struct iomem *whole, unsigned bad, unsigned first)
{
	struct iomem half = { 0 }, from = { 0 };
	unsigned b2 = 7, f2 = 7;
	char *prev = strndup(text, strlen(text) / 2);

	if (!prev || iomem_parse(prev, &half, NULL, NULL) < 0 ||
	    iomem_parse_from(text, prev, &half, &from, &b2, &f2) < 0)
		goto out; /* ENOMEM */
	FUZZ_ASSERT(from.nres == whole->nres && b2 == bad && f2 == first &&
			    from.addresses_hidden == whole->addresses_hidden &&
			    from.nested == whole->nested && from.bad_lines == whole->bad_lines,
		    "parse from the first half: %zu resources, %u bad (first %u)", from.nres, b2,
		    f2);
	for (size_t i = 0; i < from.nres; i++) {
		const struct iomem_res *x = &from.res[i], *y = &whole->res[i];

		FUZZ_ASSERT(x->start == y->start && x->end == y->end && !strcmp(x->name, y->name) &&
				    x->depth == y->depth && x->parent == y->parent &&
				    x->line == y->line && x->next == y->next,
			    "parse from the first half: resource %zu differs", i);
	}
out:
	iomem_free(&half);
	iomem_free(&from);
	free(prev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iomem io;
	unsigned bad = 7, first_bad = 7, lines = 1;
	bool all_zero = true;
	char *text = fuzz_str(data, size);
	int r;

	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	r = iomem_parse(text, &io, &bad, &first_bad);
	FUZZ_ASSERT(r == 0 || r == -ENOMEM, "r = %d", r);
	if (r < 0) {
		free(text);
		return 0;
	}
	FUZZ_ASSERT(!bad == !first_bad, "%u bad lines, first %u", bad, first_bad);
	FUZZ_ASSERT(bad <= lines && first_bad <= lines, "%u bad lines, first %u of %u", bad,
		    first_bad, lines);
	FUZZ_ASSERT(io.nres + bad <= lines, "%zu resources + %u bad from %u lines", io.nres, bad,
		    lines);
	for (size_t i = 0; i < io.nres; i++) {
		const struct iomem_res *res = &io.res[i];
		int parent = iomem_parent(&io, (int)i);
		size_t len;
		int found;

		FUZZ_ASSERT(res->start <= res->end, "res %zu: start > end", i);
		FUZZ_ASSERT(memchr(res->name, '\0', sizeof(res->name)), "res %zu: name unterminated",
			    i);
		FUZZ_ASSERT(res->depth >= 0, "res %zu: depth %d", i, res->depth);
		if (res->depth == 0) {
			FUZZ_ASSERT(parent == -1, "res %zu: top level with parent %d", i, parent);
		} else {
			FUZZ_ASSERT(parent >= 0 && (size_t)parent < i,
				    "res %zu: parent %d does not precede it", i, parent);
			FUZZ_ASSERT(io.res[parent].depth == res->depth - 1,
				    "res %zu: depth %d under depth %d", i, res->depth,
				    io.res[parent].depth);
		}
		if (res->start || res->end)
			all_zero = false;
		found = iomem_find_containing(&io, res->start, res->end, NULL);
		FUZZ_ASSERT(found >= 0 && (size_t)found < io.nres &&
				    io.res[found].start <= res->start && io.res[found].end >= res->end,
			    "res %zu: lookup of its own range gave %d", i, found);
		/* (a name ending in '*' is a prefix pattern and may find another) */
		found = iomem_find_containing(&io, res->start, res->end, res->name);
		FUZZ_ASSERT(found >= 0, "res %zu: lookup by name \"%s\" gave %d", i, res->name,
			    found);
		len = strlen(res->name);
		if (!len || res->name[len - 1] != '*')
			FUZZ_ASSERT(strcmp(io.res[found].name, res->name) == 0,
				    "res %zu: lookup by name \"%s\" gave %d", i, res->name, found);
	}
	FUZZ_ASSERT(io.addresses_hidden == (io.nres > 0 && all_zero), "addresses_hidden %d",
		    io.addresses_hidden);
	FUZZ_ASSERT(iomem_find_containing(&io, 5, 4, NULL) == -EINVAL, "start > end accepted");
	check_from(text, &io, bad, first_bad);
	iomem_free(&io);
	FUZZ_ASSERT(!io.res && !io.nres, "iomem_free");
	free(text);
	return 0;
}
