// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The state file's block sets ("32-39,41", idxset_parse in src/lib/idxset.c).
 *
 * Invariants: an accepted set is strictly ascending, at most 16M members; format -> parse gives
 * the same set back and format is a fixed point (format(parse(format(s))) ==
 * format(s)); every member is found by idxset_has; a rejected text leaves an
 * empty set.
 */
#include "idxset.h"
#include "fuzz.h"

/* sets up to this size get every check; bigger ones a sample */
#define SMALL 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct idxset s = { 0 }, s2 = { 0 };
	char *text = fuzz_str(data, size), *f1 = NULL, *f2 = NULL;
	int r;

	r = idxset_parse(text, &s);
	if (r < 0) {
		FUZZ_ASSERT(r == -EINVAL || r == -ENOMEM, "r = %d", r);
		FUZZ_ASSERT(s.n == 0, "%zu members left after a failure", s.n);
		goto out;
	}
	FUZZ_ASSERT(r == 0, "r = %d", r);
	FUZZ_ASSERT(s.n <= (1u << 24), "%zu members: more than any machine has blocks", s.n);
	for (size_t i = 1; i < s.n; i++)
		FUZZ_ASSERT(s.v[i - 1] < s.v[i], "not ascending at %zu: %llu, %llu", i,
			    (unsigned long long)s.v[i - 1], (unsigned long long)s.v[i]);
	/* every member of a small set, a stride of a big one (16M lookups are slow under ASan) */
	for (size_t i = 0; i < s.n; i += s.n <= SMALL ? 1 : s.n / 4096 + 1)
		FUZZ_ASSERT(idxset_has(&s, s.v[i]), "member %llu not found",
			    (unsigned long long)s.v[i]);
	FUZZ_ASSERT(idxset_format(&s, &f1) == 0, "format");
	r = idxset_parse(f1, &s2);
	FUZZ_ASSERT(r == 0, "own format \"%.200s\" rejected: %d", f1, r);
	FUZZ_ASSERT(s2.n == s.n && (!s.n || !memcmp(s.v, s2.v, s.n * sizeof(*s.v))),
		    "round trip changed the set (%zu -> %zu members)", s.n, s2.n);
	FUZZ_ASSERT(idxset_format(&s2, &f2) == 0, "format");
	FUZZ_ASSERT(!strcmp(f1, f2), "format not a fixed point: \"%.200s\" -> \"%.200s\"", f1, f2);
	FUZZ_ASSERT(!s.n || idxset_has(&s, s.v[s.n - 1]), "last member not found");
	/* delete and re-add the first member: same set again */
	if (s.n && s.n <= SMALL) {
		uint64_t v = s.v[0];

		idxset_del(&s, v);
		FUZZ_ASSERT(!idxset_has(&s, v) && s.n == s2.n - 1, "del");
		FUZZ_ASSERT(idxset_add(&s, v) == 1 && idxset_add(&s, v) == 0, "add");
		FUZZ_ASSERT(s.n == s2.n && !memcmp(s.v, s2.v, s.n * sizeof(*s.v)), "del+add");
	}
out:
	idxset_clear(&s);
	idxset_clear(&s2);
	free(f1);
	free(f2);
	free(text);
	return 0;
}
