/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A minimal test harness: CHECK() records a failure with file:line and goes
 * on, so one run reports every broken case of a table.  check_exit() returns
 * the process exit status meson expects (0 pass, 1 fail).
 */
#ifndef MEMHP_TEST_CHECK_H
#define MEMHP_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static unsigned check_failures, check_count;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		check_count++;                                                                     \
		if (!(cond)) {                                                                     \
			check_failures++;                                                          \
			fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);   \
			fprintf(stderr, " " __VA_ARGS__);                                          \
			fputc('\n', stderr);                                                       \
		}                                                                                  \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
	CHECK((long long)(a) == (long long)(b), "%s = %lld, expected %lld", #a, (long long)(a),    \
	      (long long)(b))
#define CHECK_EQ_U64(a, b)                                                                         \
	CHECK((uint64_t)(a) == (uint64_t)(b), "%s = %" PRIu64 ", expected %" PRIu64, #a,           \
	      (uint64_t)(a), (uint64_t)(b))
#define CHECK_STREQ(a, b)                                                                          \
	CHECK(strcmp((a), (b)) == 0, "%s = \"%s\", expected \"%s\"", #a, (a), (b))

static inline int check_exit(void)
{
	printf("%u checks, %u failed\n", check_count, check_failures);
	return check_failures ? 1 : 0;
}

#endif
