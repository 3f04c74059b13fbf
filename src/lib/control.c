// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control protocol (include/control.h): strict request parsing, shared
 * by memhpd and its fuzzer, and the client side used by memhpctl.
 *
 * Parsing trusts nothing: any local user may connect to the socket, so every
 * request is bounded, must be exactly one JSON object with known keys of the
 * right types, and names are checked before anything resolves them.
 */
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <json-c/json.h>

#include "control.h"
#include "util.h"

/* A request object is json-c depth 2; one more level so {"name":{}} is a type error. */
#define CONTROL_JSON_DEPTH 3

static const char *const cmd_names[] = {
	[CTL_STATUS] = "status", [CTL_LIST] = "list",	  [CTL_EXPLAIN] = "explain",
	[CTL_RELOAD] = "reload", [CTL_ONLINE] = "online", [CTL_OFFLINE] = "offline",
};

const char *control_cmd_name(enum control_cmd c)
{
	if ((unsigned)c < ARRAY_SIZE(cmd_names) && cmd_names[c])
		return cmd_names[c];
	return "unknown";
}

bool control_cmd_mutates(enum control_cmd c)
{
	return c == CTL_RELOAD || c == CTL_ONLINE || c == CTL_OFFLINE;
}

/* Keys each command accepts besides "cmd". */
enum { K_NAME = 1u << 0, K_TARGET = 1u << 1, K_ZONE = 1u << 2, K_TIMEOUT = 1u << 3 };

static const unsigned cmd_keys[] = {
	[CTL_STATUS] = 0,
	[CTL_LIST] = 0,
	[CTL_EXPLAIN] = K_NAME,
	[CTL_RELOAD] = 0,
	[CTL_ONLINE] = K_TARGET | K_ZONE | K_TIMEOUT,
	[CTL_OFFLINE] = K_TARGET | K_TIMEOUT,
};

static int fail(int r, char *err, size_t errlen, const char *fmt, ...) __printf(4, 5);
static int fail(int r, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* Device, block and dax names: printable, no path tricks, fits the field. */
static int check_name(const char *key, const char *s, size_t len, size_t max, char *err,
		      size_t errlen)
{
	if (len == 0)
		return fail(-EINVAL, err, errlen, "%s is empty", key);
	if (len >= max)
		return fail(-EINVAL, err, errlen, "%s is longer than %zu bytes", key, max - 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch <= ' ' || ch == 0x7f)
			return fail(-EINVAL, err, errlen,
				    "%s contains whitespace or control characters", key);
	}
	if (memchr(s, '/', len))
		return fail(-EINVAL, err, errlen, "%s contains '/'", key);
	if (strstr(s, ".."))
		return fail(-EINVAL, err, errlen, "%s contains \"..\"", key);
	return 0;
}

static int get_string(json_object *v, const char *key, const char **s, size_t *len, char *err,
		      size_t errlen)
{
	if (!json_object_is_type(v, json_type_string))
		return fail(-EINVAL, err, errlen, "\"%s\" must be a string", key);
	*s = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	/* "\u0000" decodes to an embedded NUL */
	if (memchr(*s, '\0', *len))
		return fail(-EINVAL, err, errlen, "\"%s\" contains a NUL byte", key);
	return 0;
}

static bool json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int parse_object(json_object *o, struct control_request *req, char *err, size_t errlen)
{
	json_object *cmd;
	const char *s;
	size_t len;
	unsigned allowed, seen = 0;
	int r;

	if (!json_object_is_type(o, json_type_object))
		return fail(-EINVAL, err, errlen, "request is not a JSON object");
	if (!json_object_object_get_ex(o, "cmd", &cmd))
		return fail(-EINVAL, err, errlen, "missing \"cmd\"");
	r = get_string(cmd, "cmd", &s, &len, err, errlen);
	if (r < 0)
		return r;
	r = -1;
	for (size_t i = 0; i < ARRAY_SIZE(cmd_names); i++)
		if (streq(s, cmd_names[i]))
			r = (int)i;
	if (r < 0)
		return fail(-EINVAL, err, errlen, "unknown command \"%.64s\"", s);
	req->cmd = (enum control_cmd)r;
	allowed = cmd_keys[req->cmd];

	json_object_object_foreach(o, key, v)
	{
		unsigned k;

		if (streq(key, "cmd"))
			continue;
		k = streq(key, "name")	    ? K_NAME
		    : streq(key, "target")  ? K_TARGET
		    : streq(key, "zone")    ? K_ZONE
		    : streq(key, "timeout") ? K_TIMEOUT
					    : 0;
		if (!(k & allowed))
			return fail(-EINVAL, err, errlen,
				    "unknown key \"%.64s\" for command \"%s\"", key,
				    control_cmd_name(req->cmd));
		seen |= k;
		if (k == K_NAME || k == K_TARGET) {
			r = get_string(v, key, &s, &len, err, errlen);
			if (r < 0)
				return r;
			r = check_name(key, s, len, sizeof(req->name), err, errlen);
			if (r < 0)
				return r;
			memcpy(req->name, s, len + 1);
		} else if (k == K_ZONE) {
			r = get_string(v, key, &s, &len, err, errlen);
			if (r < 0)
				return r;
			if (!streq(s, "movable") && !streq(s, "kernel"))
				return fail(-EINVAL, err, errlen,
					    "zone must be \"movable\" or \"kernel\"");
			strscpy_safe(req->zone, s, sizeof(req->zone));
		} else {
			int64_t t;

			if (!json_object_is_type(v, json_type_int))
				return fail(
					-EINVAL, err, errlen,
					"timeout must be an integer number of seconds (1-3600)");
			t = json_object_get_int64(v);
			if (t < 1 || t > 3600)
				return fail(
					-EINVAL, err, errlen,
					"timeout must be an integer number of seconds (1-3600)");
			req->timeout_ms = (unsigned)t * 1000;
		}
	}
	if ((allowed & K_NAME) && !(seen & K_NAME))
		return fail(-EINVAL, err, errlen, "missing \"name\"");
	if ((allowed & K_TARGET) && !(seen & K_TARGET))
		return fail(-EINVAL, err, errlen, "missing \"target\"");
	return 0;
}

int control_parse_request(const char *line, size_t len, struct control_request *req, char *err,
			  size_t errlen)
{
	enum json_tokener_error jerr;
	struct json_tokener *tok;
	json_object *o;
	size_t first, end;
	int r;

	memset(req, 0, sizeof(*req));
	if (err && errlen)
		err[0] = '\0';
	if (len > CONTROL_MAX_REQUEST)
		return fail(-E2BIG, err, errlen, "request larger than %d bytes",
			    CONTROL_MAX_REQUEST);
	if (!line || memchr(line, '\0', len))
		return fail(-EINVAL, err, errlen, "request contains a NUL byte");
	for (first = 0; first < len && json_space(line[first]); first++)
		;
	if (first == len)
		return fail(-EINVAL, err, errlen, "empty request");

	tok = json_tokener_new_ex(CONTROL_JSON_DEPTH);
	if (!tok)
		return fail(-ENOMEM, err, errlen, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
					    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, line, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);

	if (jerr == json_tokener_continue) {
		/* numbers and literals are only complete at a delimiter */
		json_object_put(o);
		if (line[first] == '{')
			return fail(-EINVAL, err, errlen,
				    "malformed JSON: unexpected end of request");
		return fail(-EINVAL, err, errlen, "request is not a JSON object");
	}
	if (jerr != json_tokener_success) {
		json_object_put(o);
		if (jerr == json_tokener_error_depth)
			return fail(-EINVAL, err, errlen, "malformed JSON: nested too deeply");
		return fail(-EINVAL, err, errlen, "malformed JSON: %s",
			    json_tokener_error_desc(jerr));
	}
	for (; end < len; end++)
		if (!json_space(line[end])) {
			json_object_put(o);
			return fail(-EINVAL, err, errlen, "trailing garbage after the request");
		}
	r = parse_object(o, req, err, errlen);
	json_object_put(o);
	if (r < 0)
		memset(req, 0, sizeof(*req));
	return r;
}

/* ---- client ---- */

static int wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	uint64_t now;
	int r;

	for (;;) {
		now = now_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)(deadline - now > INT32_MAX ? INT32_MAX : deadline - now));
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

int control_call(const char *path, const char *request, char **reply, unsigned timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t rlen, off, len = 0, cap = 0;
	uint64_t deadline = now_ms() + timeout_ms;
	bool reset = false;
	int r;

	*reply = NULL;
	if (!path || !request)
		return -EINVAL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	rlen = strlen(request);
	if (memchr(request, '\n', rlen))
		return -EINVAL;
	if (rlen > CONTROL_MAX_REQUEST)
		return -E2BIG;
	memcpy(sa.sun_path, path, strlen(path) + 1);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* a full backlog makes a non-blocking AF_UNIX connect fail with EAGAIN: retry */
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EINPROGRESS)
			return -errno;
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		sleep_ms(10);
	}

	buf = malloc(rlen + 1);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, request, rlen);
	buf[rlen] = '\n';
	for (off = 0; off < rlen + 1;) {
		ssize_t n = send(fd, buf + off, rlen + 1 - off, MSG_NOSIGNAL);

		if (n >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		/* the daemon may have answered (and closed) already: read its reply */
		if (errno == EPIPE || errno == ECONNRESET)
			break;
		if (errno != EAGAIN)
			return -errno;
		r = wait_fd(fd, POLLOUT, deadline);
		if (r < 0)
			return r;
	}
	free(TAKE_PTR(buf));

	for (;;) {
		ssize_t n;
		char *nl;

		/* the reply line plus its '\n' (which becomes the NUL) */
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 16384;
			char *nb;

			if (cap >= CONTROL_MAX_REPLY + 1)
				return -EMSGSIZE;
			if (ncap > CONTROL_MAX_REPLY + 1)
				ncap = CONTROL_MAX_REPLY + 1;
			nb = realloc(buf, ncap);
			if (!nb)
				return -ENOMEM;
			buf = nb;
			cap = ncap;
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/*
			 * A peer that closes with our input unread resets the
			 * connection; the error is reported once, ahead of the
			 * reply it may have queued: look once more.
			 */
			if (errno == ECONNRESET && !reset) {
				reset = true;
				continue;
			}
			if (errno != EAGAIN)
				return -errno;
			r = wait_fd(fd, POLLIN, deadline);
			if (r < 0)
				return r;
			continue;
		}
		if (n == 0)
			return -ECONNRESET; /* closed before a complete reply */
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
		if (nl) {
			*nl = '\0';
			if (memchr(buf, '\0', (size_t)(nl - buf)))
				return -EBADMSG;
			*reply = TAKE_PTR(buf);
			return 0;
		}
	}
}
