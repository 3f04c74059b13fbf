/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A sorted set of block indices, written as ranges ("32-39,41") in the state
 * file.  Used by the daemon to remember which blocks it already handled, so
 * that a block an admin offlines later is not onlined again behind her back.
 */
#ifndef MEMHP_IDXSET_H
#define MEMHP_IDXSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct idxset {
	uint64_t *v;
	size_t n, cap;
	/*
	 * Set anew by every call that changes the members, from a counter
	 * shared by all sets: a set whose gen is what it was holds what it
	 * held, so a reader can tell "unchanged" without comparing the
	 * members.  0 only for a set never changed, which is empty.
	 */
	uint64_t gen;
};

bool idxset_has(const struct idxset *s, uint64_t i);
int idxset_add(struct idxset *s, uint64_t i);
void idxset_del(struct idxset *s, uint64_t i);
void idxset_clear(struct idxset *s);
/* "32-39,41" (empty string for an empty set); malloc'd. */
int idxset_format(const struct idxset *s, char **out);
/* Parse what idxset_format wrote; -EINVAL on anything else (ranges must ascend). */
int idxset_parse(const char *text, struct idxset *s);

#endif
