/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * /proc/iomem parser.  The file is a tree printed with two spaces of
 * indentation per level:
 *
 *   100000000-17fffffff : dax0.0
 *     100000000-17fffffff : System RAM (kmem)
 *
 * We keep it flat (in file order) with a parent index, which is all the
 * machine model needs to find who owns a range.  Pure: no I/O.
 */
#ifndef MEMHP_IOMEM_H
#define MEMHP_IOMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IOMEM_NAME_MAX 64

struct iomem_res {
	uint64_t start, end; /* inclusive, as printed */
	char name[IOMEM_NAME_MAX];
	int depth;
	int parent; /* index into iomem.res, -1 at top level */
	unsigned line; /* 1-based line of the text it was parsed from */
	size_t next; /* offset in that text just past its line */
};

struct iomem {
	struct iomem_res *res;
	size_t nres;
	/* every start/end printed as 0: the reader was not root (kptr hiding) */
	bool addresses_hidden;
	/* a proper tree in file order (what the kernel prints): fast lookups */
	bool nested;
	unsigned bad_lines; /* malformed lines skipped */
};

/*
 * Parse the whole text.  A malformed line is skipped and counted in
 * *bad_lines (may be NULL) with the first bad line number in *first_bad;
 * the rest still parses.  Returns 0 or -ENOMEM.
 */
int iomem_parse(const char *text, struct iomem *out, unsigned *bad_lines, unsigned *first_bad);
/*
 * The same result as iomem_parse(text), but the resources of the lines
 * text shares with prev_text from its start are taken from prev, which
 * was parsed from prev_text (prev_text and prev may be NULL).  A hot-add
 * adds a line or two to a file of one line per device; parsing all of it
 * again for each was a tenth of a batch with 768 DIMMs.
 */
int iomem_parse_from(const char *text, const char *prev_text, const struct iomem *prev,
		     struct iomem *out, unsigned *bad_lines, unsigned *first_bad);
void iomem_free(struct iomem *io);

/*
 * Deepest resource named exactly `name` or starting with `name` when it ends
 * in '*', that fully contains [start, end].  Returns its index or -ENOENT.
 */
int iomem_find_containing(const struct iomem *io, uint64_t start, uint64_t end, const char *name);

/* Index of the parent of res i, or -1. */
static inline int iomem_parent(const struct iomem *io, int i)
{
	return (i >= 0 && (size_t)i < io->nres) ? io->res[i].parent : -1;
}

#endif
