// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Control-socket request parser (control_parse_request, src/lib/control.c):
 * the input is the request line as read from the socket, NULs and all.
 *
 * Invariants: an accepted request has a known command, a name that is
 * non-empty exactly when the command takes one, contains no '/', no "..",
 * no whitespace or control bytes, a zone that is "", "movable" or "kernel",
 * and a timeout of 0 or 1-3600 s; a rejected one has a non-empty error
 * message and a zeroed request.  Parsing is deterministic.
 */
#include "control.h"
#include "fuzz.h"

static void check_request(const struct control_request *req)
{
	size_t len = strnlen(req->name, sizeof(req->name));

	FUZZ_ASSERT((unsigned)req->cmd <= CTL_OFFLINE, "cmd %d", req->cmd);
	FUZZ_ASSERT(control_cmd_name(req->cmd) != NULL, "no name for cmd %d", req->cmd);
	FUZZ_ASSERT(len < sizeof(req->name), "name unterminated");
	FUZZ_ASSERT(strnlen(req->zone, sizeof(req->zone)) < sizeof(req->zone),
		    "zone unterminated");
	if (req->cmd == CTL_EXPLAIN || req->cmd == CTL_ONLINE || req->cmd == CTL_OFFLINE)
		FUZZ_ASSERT(len > 0, "%s without a name", control_cmd_name(req->cmd));
	else
		FUZZ_ASSERT(len == 0, "%s with name \"%s\"", control_cmd_name(req->cmd), req->name);
	FUZZ_ASSERT(!strchr(req->name, '/') && !strstr(req->name, ".."), "name \"%s\"",
		    req->name);
	for (size_t i = 0; i < len; i++)
		FUZZ_ASSERT((unsigned char)req->name[i] > ' ' && req->name[i] != 0x7f,
			    "name byte %#x", (unsigned char)req->name[i]);
	FUZZ_ASSERT(!req->zone[0] || !strcmp(req->zone, "movable") || !strcmp(req->zone, "kernel"),
		    "zone \"%s\"", req->zone);
	if (req->zone[0])
		FUZZ_ASSERT(req->cmd == CTL_ONLINE, "zone for %s", control_cmd_name(req->cmd));
	FUZZ_ASSERT(req->timeout_ms == 0 ||
			    (req->timeout_ms >= 1000 && req->timeout_ms <= 3600000 &&
			     req->timeout_ms % 1000 == 0),
		    "timeout_ms %u", req->timeout_ms);
	if (req->timeout_ms)
		FUZZ_ASSERT(req->cmd == CTL_ONLINE || req->cmd == CTL_OFFLINE, "timeout for %s",
			    control_cmd_name(req->cmd));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control_request req, req2;
	static const struct control_request zero;
	char err[256], err2[256];
	/* exactly size bytes, no terminator: the parser must respect len */
	char *line = malloc(size ? size : 1);
	int r, r2;

	if (!line)
		abort();
	memcpy(line, data, size);
	memset(err, 'x', sizeof(err));
	r = control_parse_request(line, size, &req, err, sizeof(err));
	FUZZ_ASSERT(memchr(err, '\0', sizeof(err)), "error message unterminated");
	if (r == 0) {
		FUZZ_ASSERT(err[0] == '\0', "success with error \"%s\"", err);
		check_request(&req);
	} else {
		FUZZ_ASSERT(r == -EINVAL || r == -E2BIG || r == -ENOMEM, "r = %d", r);
		FUZZ_ASSERT(err[0] != '\0', "failure %d without a message", r);
		FUZZ_ASSERT(!memcmp(&req, &zero, sizeof(req)), "request not zeroed on failure");
		if (size > CONTROL_MAX_REQUEST)
			FUZZ_ASSERT(r == -E2BIG, "oversized request gave %d", r);
	}
	r2 = control_parse_request(line, size, &req2, err2, sizeof(err2));
	FUZZ_ASSERT(r2 == r && !memcmp(&req, &req2, sizeof(req)) && !strcmp(err, err2),
		    "not deterministic: %d/%d \"%s\"/\"%s\"", r, r2, err, err2);
	/* a tiny error buffer must be truncated, not overrun */
	r2 = control_parse_request(line, size, &req2, err2, 4);
	FUZZ_ASSERT(r2 == r && strlen(err2) < 4, "errlen 4: %d \"%s\"", r2, err2);
	free(line);
	return 0;
}
