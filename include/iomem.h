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
};

struct iomem {
	struct iomem_res *res;
	size_t nres;
	/* every start/end printed as 0: the reader was not root (kptr hiding) */
	bool addresses_hidden;
	/* a proper tree in file order (what the kernel prints): fast lookups */
	bool nested;
};

/*
 * Parse the whole text.  A malformed line is skipped and counted in
 * *bad_lines (may be NULL) with the first bad line number in *first_bad;
 * the rest still parses.  Returns 0 or -ENOMEM.
 */
int iomem_parse(const char *text, struct iomem *out, unsigned *bad_lines, unsigned *first_bad);
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
