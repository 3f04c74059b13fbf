// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The daemon's state file reader (state_read, src/memhpd/state.c): the input
 * is the whole file.
 *
 * Invariants: a rejected file yields a message naming the file and leaves the
 * caller's state as it was; an accepted one survives state_write ->
 * state_read unchanged (everything but the "updated" timestamp), with unique,
 * non-empty device ids.
 */
#include "memhpd.h"
#include "fuzz.h"

/* state_to_json without the wall-clock "updated" field */
static json_object *to_json(const struct state *st)
{
	json_object *o = state_to_json(st);

	FUZZ_ASSERT(o != NULL, "state_to_json");
	json_object_object_del(o, "updated");
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state st = { 0 }, st2 = { 0 };
	char path[128], path2[128], msg[512];
	const char *dir = fuzz_tmpdir();
	json_object *a, *b;
	int r;

	snprintf(path, sizeof(path), "%s/state.json", dir);
	snprintf(path2, sizeof(path2), "%s/state2.json", dir);
	fuzz_write_file(path, data, size);

	/* a record the reader must keep on failure and replace on success */
	FUZZ_ASSERT(state_record(&st, "sentinel", DEV_ACPI_DIMM) != NULL, "state_record");
	st.cnt.events = 42;
	memset(msg, 'x', sizeof(msg));
	r = state_read(&st, path, msg, sizeof(msg));
	FUZZ_ASSERT(memchr(msg, '\0', sizeof(msg)), "message unterminated");
	if (r < 0) {
		FUZZ_ASSERT(r == -EINVAL || r == -ENOMEM || r == -EFBIG, "r = %d", r);
		FUZZ_ASSERT(!strncmp(msg, path, strlen(path)), "message \"%s\" does not name %s",
			    msg, path);
		FUZZ_ASSERT(st.ndev == 1 && state_find(&st, "sentinel") && st.cnt.events == 42,
			    "state changed by a failed read");
		goto out;
	}
	FUZZ_ASSERT(r == 0, "r = %d", r);
	FUZZ_ASSERT(!st.dirty, "dirty after read");
	for (size_t i = 0; i < st.ndev; i++) {
		FUZZ_ASSERT(st.dev[i].id[0], "device %zu: empty id", i);
		FUZZ_ASSERT(state_find(&st, st.dev[i].id) == &st.dev[i], "device %zu: duplicate id",
			    i);
	}

	r = state_write(&st, path2);
	FUZZ_ASSERT(r == 0, "state_write: %d", r);
	r = state_read(&st2, path2, msg, sizeof(msg));
	FUZZ_ASSERT(r == 0, "own state file rejected: %s", msg);
	a = to_json(&st);
	b = to_json(&st2);
	FUZZ_ASSERT(json_object_equal(a, b), "round trip changed the state:\n%s\n%s",
		    json_object_to_json_string(a), json_object_to_json_string(b));
	json_object_put(a);
	json_object_put(b);
out:
	state_free(&st);
	state_free(&st2);
	return 0;
}
