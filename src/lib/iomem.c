// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * /proc/iomem parser.  The kernel prints every resource as
 *
 *   "%*s%0*llx-%0*llx : %s\n"  (indent = 2 * depth)
 *
 * Names are free text ("PCI Bus 0000:00", "System RAM (kmem)"), so everything
 * after the first " : " is the name.  A line that does not fit is skipped and
 * counted; the rest of the tree still parses.
 */
#include <ctype.h>

#include "iomem.h"
#include "util.h"

/* Kernel resource trees are a handful of levels deep; more is garbage. */
#define IOMEM_DEPTH_MAX 32

static int parse_hex(const char **sp, uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;
	int n = 0;

	while (isxdigit((unsigned char)*s)) {
		unsigned d = isdigit((unsigned char)*s)
				     ? (unsigned)(*s - '0')
				     : (unsigned)(tolower((unsigned char)*s) - 'a' + 10);

		if (v >> 60)
			return -ERANGE;
		v = (v << 4) | d;
		s++;
		n++;
	}
	if (!n)
		return -EINVAL;
	*sp = s;
	*out = v;
	return 0;
}

/* Parse one line (NUL-terminated, no newline) into r; -EINVAL if malformed. */
static int parse_line(const char *line, struct iomem_res *r)
{
	const char *p = line, *name;
	size_t spaces = 0, len;

	while (*p == ' ') {
		p++;
		spaces++;
	}
	if (spaces % 2 || spaces / 2 >= IOMEM_DEPTH_MAX)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	r->depth = (int)(spaces / 2);
	if (parse_hex(&p, &r->start) < 0)
		return -EINVAL;
	if (*p++ != '-')
		return -EINVAL;
	if (parse_hex(&p, &r->end) < 0)
		return -EINVAL;
	if (r->start > r->end)
		return -EINVAL;
	if (strncmp(p, " : ", 3) != 0)
		return -EINVAL;
	name = p + 3;
	len = strlen(name);
	while (len && isspace((unsigned char)name[len - 1]))
		len--;
	if (len >= IOMEM_NAME_MAX)
		len = IOMEM_NAME_MAX - 1;
	memcpy(r->name, name, len);
	r->name[len] = '\0';
	return 0;
}

/*
 * Whether the resources form a proper tree in file order, as the kernel
 * prints it: every child inside its parent, siblings in ascending order
 * without overlap.  Then the starts never decrease in file order and
 * every resource containing an address is an ancestor of the last
 * resource starting at or below it, which iomem_find_containing() uses.
 */
static bool is_nested(const struct iomem *io)
{
	for (size_t i = 0; i < io->nres; i++) {
		const struct iomem_res *r = &io->res[i];

		if (i && r->start < io->res[i - 1].start)
			return false;
		if (r->parent >= 0 &&
		    (r->start < io->res[r->parent].start || r->end > io->res[r->parent].end))
			return false;
		/* the previous sibling is the nearest earlier entry with the same parent */
		for (size_t j = i; j-- > 0;) {
			if (io->res[j].depth < r->depth)
				break;
			if (io->res[j].depth == r->depth) {
				if (r->start <= io->res[j].end)
					return false;
				break;
			}
		}
	}
	return true;
}

/* Length of the common start of a and b. */
static size_t common_prefix(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), max = la < lb ? la : lb, n = 0;

	while (n + 64 <= max && !memcmp(a + n, b + n, 64))
		n += 64;
	while (n < max && a[n] == b[n])
		n++;
	return n;
}

/*
 * How many of prev's resources come from lines wholly inside the first
 * `same` bytes of its text, newline included: their lines, and all
 * before, read the same in both texts.
 * Only a prev without malformed lines is used, so that the count of
 * those stays exact.
 */
static size_t reusable(const struct iomem *prev, const char *prev_text, size_t same)
{
	size_t lo = 0, hi = prev->nres;

	if (prev->bad_lines)
		return 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (prev->res[mid].next <= same)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* a last line without its newline may go on in text */
	if (lo && prev_text[prev->res[lo - 1].next - 1] != '\n')
		lo--;
	return lo;
}

int iomem_parse_from(const char *text, const char *prev_text, const struct iomem *prev,
		     struct iomem *out, unsigned *bad_lines, unsigned *first_bad)
{
	struct iomem io = { 0 };
	int stack[IOMEM_DEPTH_MAX];
	int last_depth = -1;
	unsigned bad = 0, first = 0, lineno = 0;
	size_t cap = 0, keep = 0;
	bool all_zero = true;
	const char *pos = text;
	char *buf = NULL;
	size_t bufcap = 0;
	int ret = 0;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (bad_lines)
		*bad_lines = 0;
	if (first_bad)
		*first_bad = 0;
	if (!text)
		return -EINVAL;

	if (prev_text && prev && prev->nres)
		keep = reusable(prev, prev_text, common_prefix(text, prev_text));
	if (keep) {
		const struct iomem_res *last = &prev->res[keep - 1];

		if (grow_array((void **)&io.res, &cap, keep, sizeof(*io.res)) < 0)
			return -ENOMEM;
		memcpy(io.res, prev->res, keep * sizeof(*io.res));
		io.nres = keep;
		/* where the parse of the whole text would be after that line */
		pos = text + last->next;
		lineno = last->line;
		last_depth = last->depth;
		for (int i = (int)keep - 1; i >= 0; i = io.res[i].parent)
			stack[io.res[i].depth] = i;
	}

	while (*pos) {
		const char *nl = strchr(pos, '\n');
		size_t len = nl ? (size_t)(nl - pos) : strlen(pos);
		struct iomem_res r;

		lineno++;
		if (len + 1 > bufcap) {
			char *nb = realloc(buf, len + 1);

			if (!nb) {
				ret = -ENOMEM;
				goto out;
			}
			buf = nb;
			bufcap = len + 1;
		}
		memcpy(buf, pos, len);
		buf[len] = '\0';
		pos = nl ? nl + 1 : pos + len;

		if (!buf[strspn(buf, " \t\r")])
			continue; /* blank line: nothing to count */
		/* a child may only be one level below the line before it */
		if (parse_line(buf, &r) < 0 || r.depth > last_depth + 1) {
			if (!bad++)
				first = lineno;
			continue;
		}
		r.parent = r.depth ? stack[r.depth - 1] : -1;
		r.line = lineno;
		r.next = (size_t)(pos - text);
		if (grow_array((void **)&io.res, &cap, io.nres + 1, sizeof(*io.res)) < 0) {
			ret = -ENOMEM;
			goto out;
		}
		stack[r.depth] = (int)io.nres;
		io.res[io.nres++] = r;
		last_depth = r.depth;
	}
	for (size_t i = 0; i < io.nres && all_zero; i++)
		all_zero = !io.res[i].start && !io.res[i].end;
	io.addresses_hidden = io.nres > 0 && all_zero;
	io.nested = is_nested(&io);
	io.bad_lines = bad;
	*out = io;
	io.res = NULL;
out:
	free(io.res);
	free(buf);
	if (bad_lines)
		*bad_lines = bad;
	if (first_bad)
		*first_bad = first;
	return ret;
}

int iomem_parse(const char *text, struct iomem *out, unsigned *bad_lines, unsigned *first_bad)
{
	return iomem_parse_from(text, NULL, NULL, out, bad_lines, first_bad);
}

void iomem_free(struct iomem *io)
{
	if (!io)
		return;
	free(io->res);
	io->res = NULL;
	io->nres = 0;
	io->addresses_hidden = false;
	io->nested = false;
	io->bad_lines = 0;
}

static bool name_matches(const char *res_name, const char *name)
{
	size_t len;

	if (!name)
		return true;
	len = strlen(name);
	if (len && name[len - 1] == '*')
		return strncmp(res_name, name, len - 1) == 0;
	return streq(res_name, name);
}

int iomem_find_containing(const struct iomem *io, uint64_t start, uint64_t end, const char *name)
{
	int best = -ENOENT;
	size_t lo = 0, hi;

	if (!io || start > end)
		return -EINVAL;
	if (!io->nested) {
		/* not a tree the kernel would print: look at everything */
		for (size_t i = 0; i < io->nres; i++) {
			const struct iomem_res *r = &io->res[i];

			if (r->start > start || r->end < end)
				continue;
			if (!name_matches(r->name, name))
				continue;
			if (best < 0 || r->depth > io->res[best].depth)
				best = (int)i;
		}
		return best;
	}
	/*
	 * The last resource starting at or below start, then up its
	 * ancestors: the first that contains the range and has the name is
	 * the deepest.  O(log n + depth) instead of O(n) per block, which
	 * made grouping 65k blocks against thousands of DIMMs quadratic.
	 */
	hi = io->nres;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (io->res[mid].start <= start)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (int i = (int)lo - 1; i >= 0; i = io->res[i].parent) {
		const struct iomem_res *r = &io->res[i];

		if (r->start <= start && r->end >= end && name_matches(r->name, name))
			return i;
	}
	return -ENOENT;
}
