/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared bits of the libFuzzer targets in tests/fuzz/.  Every target defines
 * LLVMFuzzerTestOneInput(); it is linked either with libFuzzer (clang
 * -fsanitize=fuzzer, scripts/fuzz) or with replay.c (gcc, the meson tests
 * that run the seed corpora).  Invariant violations abort(), which both
 * libFuzzer and the replay test report as a failure with the input.
 */
#ifndef MEMHP_FUZZ_H
#define MEMHP_FUZZ_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond, ...)                                                                     \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant (%s) violated: ", __FILE__, __LINE__,    \
				#cond);                                                            \
			fprintf(stderr, " " __VA_ARGS__);                                          \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* NUL-terminated copy of the input (embedded NULs cut the string short, as in a C reader). */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static char fuzz_dir[64];

static inline int fuzz_rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p);
}

static inline void fuzz_rm_dir(void)
{
	if (fuzz_dir[0])
		nftw(fuzz_dir, fuzz_rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* A private scratch directory, created once per process and removed at exit. */
static inline const char *fuzz_tmpdir(void)
{
	if (!fuzz_dir[0]) {
		const char *base = getenv("TMPDIR");

		snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/memhp-fuzz-XXXXXX",
			 base && *base && strlen(base) < 32 ? base : "/tmp");
		if (!mkdtemp(fuzz_dir)) {
			perror("fuzz: mkdtemp");
			abort();
		}
		atexit(fuzz_rm_dir);
	}
	return fuzz_dir;
}

/* Replace path with exactly these bytes. */
static inline void fuzz_write_file(const char *path, const void *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	const char *p = data;

	if (fd < 0) {
		perror(path);
		abort();
	}
	while (size) {
		ssize_t n = write(fd, p, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			perror(path);
			abort();
		}
		p += n;
		size -= (size_t)n;
	}
	close(fd);
}

#endif
