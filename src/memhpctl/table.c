// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>

#include "memhpctl.h"
#include "util.h"

struct table {
	unsigned ncols;
	const char *const *headers;
	struct strv cells;
};

struct table *table_new(unsigned ncols, const char *const *headers)
{
	struct table *t = calloc(1, sizeof(*t));

	if (t) {
		t->ncols = ncols;
		t->headers = headers;
	}
	return t;
}

void table_add(struct table *t, ...)
{
	va_list ap;

	va_start(ap, t);
	for (unsigned i = 0; i < t->ncols; i++) {
		const char *s = va_arg(ap, const char *);

		strv_push(&t->cells, s ? s : "-");
	}
	va_end(ap);
}

void table_print(struct table *t, FILE *f)
{
	size_t w[32] = { 0 };
	size_t rows = t->cells.n / t->ncols;

	for (unsigned c = 0; c < t->ncols && c < ARRAY_SIZE(w); c++) {
		w[c] = strlen(t->headers[c]);
		for (size_t r = 0; r < rows; r++) {
			size_t l = strlen(t->cells.v[r * t->ncols + c]);

			if (l > w[c])
				w[c] = l;
		}
	}
	for (unsigned c = 0; c < t->ncols; c++)
		fprintf(f, "%-*s%s", c + 1 < t->ncols ? (int)w[c] : 0, t->headers[c],
			c + 1 < t->ncols ? " " : "\n");
	for (size_t r = 0; r < rows; r++)
		for (unsigned c = 0; c < t->ncols; c++)
			fprintf(f, "%-*s%s", c + 1 < t->ncols ? (int)w[c] : 0,
				t->cells.v[r * t->ncols + c], c + 1 < t->ncols ? " " : "\n");
}

void table_free(struct table *t)
{
	if (!t)
		return;
	strv_clear(&t->cells);
	free(t);
}
