/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fixture trees for unit tests: files, directories and symlinks below a
 * mkdtemp() root (tree_root), and its removal.  Failures to create are
 * test failures (CHECK), never writes outside the root.
 */
#ifndef MEMHP_TEST_TREE_H
#define MEMHP_TEST_TREE_H

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

/* Set by the test after mkdtemp(). */
static const char *tree_root;

/* mkdir -p root/rel */
static inline void mkpath(const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", tree_root, rel);
	for (char *s = p + strlen(tree_root) + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	}
	mkdir(p, 0755);
}

static inline void write_mode(const char *rel, const char *content, const char *mode)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", tree_root, rel);
	f = fopen(p, mode);
	CHECK(f != NULL, "open %s", p);
	if (!f)
		return;
	fputs(content, f);
	fclose(f);
}

/* root/rel with exactly this content */
static inline void put(const char *rel, const char *content)
{
	write_mode(rel, content, "w");
}

/* content added at the end of root/rel */
static inline void append(const char *rel, const char *content)
{
	write_mode(rel, content, "a");
}

/* root/rel -> target (as given: relative or absolute) */
static inline void link_at(const char *target, const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", tree_root, rel);
	CHECK(symlink(target, p) == 0, "symlink %s -> %s", p, target);
}

static inline int tree_rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

/* rm -rf root */
static inline void tree_remove(void)
{
	nftw(tree_root, tree_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* rm -rf root/rel */
static inline void tree_remove_at(const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", tree_root, rel);
	CHECK(nftw(p, tree_rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0, "rm -rf %s", p);
}

#endif
