/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control protocol spoken on /run/memhpd/control: one JSON object per
 * line each way, requests capped at CONTROL_MAX_REQUEST bytes.
 *
 *   {"cmd":"status"}                     -> {"ok":true,"status":...}
 *   {"cmd":"list"}                       -> {"ok":true,"machine":{...}}
 *   {"cmd":"explain","name":"dax0.0"}    -> {"ok":true,"decision":{...}}
 *   {"cmd":"reload"}                     -> {"ok":true} | {"ok":false,"error":"..."}
 *   {"cmd":"online","target":"memory40","zone":"movable"}
 *   {"cmd":"offline","target":"PNP0C80:00","timeout":30}
 *
 * Errors: {"ok":false,"error":"message"}.  Parsing is pure (fuzzed).
 */
#ifndef MEMHP_CONTROL_H
#define MEMHP_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#define CONTROL_MAX_REQUEST 4096
#define CONTROL_MAX_REPLY (64u << 20)
#define CONTROL_SOCKET_DEFAULT "/run/memhpd/control"

enum control_cmd {
	CTL_STATUS = 0,
	CTL_LIST,
	CTL_EXPLAIN,
	CTL_RELOAD,
	CTL_ONLINE,
	CTL_OFFLINE,
};

struct control_request {
	enum control_cmd cmd;
	char name[128]; /* explain: device/dax/block name; online/offline: target */
	char zone[16]; /* online: "movable", "kernel" or "" (policy) */
	unsigned timeout_ms; /* offline: per block; 0 = daemon default */
};

const char *control_cmd_name(enum control_cmd c);
/* Commands that change kernel or daemon state: root only. */
bool control_cmd_mutates(enum control_cmd c);

/*
 * Parse one request line (no newline).  Returns 0, or -EINVAL/-E2BIG with a
 * message fit to send back ("unknown command \"foo\"", "name contains '/'").
 */
int control_parse_request(const char *line, size_t len, struct control_request *req, char *err,
			  size_t errlen);

/*
 * Client side: connect to path, send one request line, read one reply line
 * (malloc'd, NUL-terminated) within timeout_ms.  -ENOENT/-ECONNREFUSED when
 * no daemon listens.
 */
int control_call(const char *path, const char *request, char **reply, unsigned timeout_ms);

#endif
