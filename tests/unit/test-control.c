// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Control protocol: every accepted request shape, every rejection with its
 * exact message, and the client against forked toy servers (reply, silence,
 * hang-up, oversized reply, no socket).
 */
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "control.h"
#include "util.h"
#include "check.h"

struct ok_case {
	const char *req;
	enum control_cmd cmd;
	const char *name;
	const char *zone;
	unsigned timeout_ms;
};

static const struct ok_case ok_cases[] = {
	{ "{\"cmd\":\"status\"}", CTL_STATUS, "", "", 0 },
	{ "  {\"cmd\" : \"list\"}  \r", CTL_LIST, "", "", 0 },
	{ "{\"cmd\":\"reload\"}", CTL_RELOAD, "", "", 0 },
	{ "{\"cmd\":\"explain\",\"name\":\"dax0.0\"}", CTL_EXPLAIN, "dax0.0", "", 0 },
	{ "{\"name\":\"PNP0C80:00\",\"cmd\":\"explain\"}", CTL_EXPLAIN, "PNP0C80:00", "", 0 },
	{ "{\"cmd\":\"online\",\"target\":\"memory40\",\"zone\":\"movable\"}", CTL_ONLINE,
	  "memory40", "movable", 0 },
	{ "{\"cmd\":\"online\",\"target\":\"memory32-memory39\",\"zone\":\"kernel\","
	  "\"timeout\":5}",
	  CTL_ONLINE, "memory32-memory39", "kernel", 5000 },
	{ "{\"cmd\":\"online\",\"target\":\"0x100000000-0x13fffffff\"}", CTL_ONLINE,
	  "0x100000000-0x13fffffff", "", 0 },
	{ "{\"cmd\":\"offline\",\"target\":\"PNP0C80:00\",\"timeout\":30}", CTL_OFFLINE,
	  "PNP0C80:00", "", 30000 },
	{ "{\"cmd\":\"offline\",\"target\":\"memory1\",\"timeout\":1}", CTL_OFFLINE, "memory1", "",
	  1000 },
	{ "{\"cmd\":\"offline\",\"target\":\"memory1\",\"timeout\":3600}", CTL_OFFLINE, "memory1",
	  "", 3600000 },
	/* 127 bytes: the longest name that fits */
	{ "{\"cmd\":\"explain\",\"name\":\""
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	  CTL_EXPLAIN,
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  "", 0 },
};

struct bad_case {
	const char *req; /* NULL: use len bytes of raw */
	int err;
	const char *msg;
};

static const struct bad_case bad_cases[] = {
	{ "", -EINVAL, "empty request" },
	{ "   ", -EINVAL, "empty request" },
	{ "status", -EINVAL, "malformed JSON: unexpected character" },
	{ "123", -EINVAL, "request is not a JSON object" },
	{ "[\"status\"]", -EINVAL, "request is not a JSON object" },
	{ "\"status\"", -EINVAL, "request is not a JSON object" },
	{ "null", -EINVAL, "request is not a JSON object" },
	{ "{\"cmd\":\"status\"", -EINVAL, "malformed JSON: unexpected end of request" },
	{ "{\"cmd\":\"status\",}", -EINVAL, "malformed JSON: unexpected character" },
	{ "{\"cmd\":\"status\"} {}", -EINVAL, "trailing garbage after the request" },
	{ "{\"cmd\":\"status\"}x", -EINVAL, "trailing garbage after the request" },
	{ "{\"cmd\":{\"a\":{\"b\":1}}}", -EINVAL, "malformed JSON: nested too deeply" },
	{ "{}", -EINVAL, "missing \"cmd\"" },
	{ "{\"command\":\"status\"}", -EINVAL, "missing \"cmd\"" },
	{ "{\"cmd\":1}", -EINVAL, "\"cmd\" must be a string" },
	{ "{\"cmd\":null}", -EINVAL, "\"cmd\" must be a string" },
	{ "{\"cmd\":[\"status\"]}", -EINVAL, "\"cmd\" must be a string" },
	{ "{\"cmd\":\"foo\"}", -EINVAL, "unknown command \"foo\"" },
	{ "{\"cmd\":\"STATUS\"}", -EINVAL, "unknown command \"STATUS\"" },
	{ "{\"cmd\":\"status\\u0000\"}", -EINVAL, "\"cmd\" contains a NUL byte" },
	{ "{\"cmd\":\"status\",\"name\":\"x\"}", -EINVAL,
	  "unknown key \"name\" for command \"status\"" },
	{ "{\"cmd\":\"reload\",\"force\":true}", -EINVAL,
	  "unknown key \"force\" for command \"reload\"" },
	{ "{\"cmd\":\"explain\",\"target\":\"memory1\"}", -EINVAL,
	  "unknown key \"target\" for command \"explain\"" },
	{ "{\"cmd\":\"offline\",\"target\":\"memory1\",\"zone\":\"movable\"}", -EINVAL,
	  "unknown key \"zone\" for command \"offline\"" },
	{ "{\"cmd\":\"explain\"}", -EINVAL, "missing \"name\"" },
	{ "{\"cmd\":\"online\",\"zone\":\"movable\"}", -EINVAL, "missing \"target\"" },
	{ "{\"cmd\":\"explain\",\"name\":5}", -EINVAL, "\"name\" must be a string" },
	{ "{\"cmd\":\"explain\",\"name\":{}}", -EINVAL, "\"name\" must be a string" },
	{ "{\"cmd\":\"online\",\"target\":true}", -EINVAL, "\"target\" must be a string" },
	{ "{\"cmd\":\"explain\",\"name\":\"\"}", -EINVAL, "name is empty" },
	{ "{\"cmd\":\"explain\",\"name\":\"../etc\"}", -EINVAL, "name contains '/'" },
	{ "{\"cmd\":\"explain\",\"name\":\"a/b\"}", -EINVAL, "name contains '/'" },
	{ "{\"cmd\":\"explain\",\"name\":\"..\"}", -EINVAL, "name contains \"..\"" },
	{ "{\"cmd\":\"online\",\"target\":\"dax0..0\"}", -EINVAL, "target contains \"..\"" },
	{ "{\"cmd\":\"explain\",\"name\":\"memory 1\"}", -EINVAL,
	  "name contains whitespace or control characters" },
	{ "{\"cmd\":\"explain\",\"name\":\"memory1\\n\"}", -EINVAL,
	  "name contains whitespace or control characters" },
	{ "{\"cmd\":\"explain\",\"name\":\"a\\u007f\"}", -EINVAL,
	  "name contains whitespace or control characters" },
	{ "{\"cmd\":\"explain\",\"name\":\"a\\u0000b\"}", -EINVAL, "\"name\" contains a NUL byte" },
	{ "{\"cmd\":\"explain\",\"name\":\""
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	  -EINVAL, "name is longer than 127 bytes" },
	{ "{\"cmd\":\"online\",\"target\":\"memory1\",\"zone\":\"normal\"}", -EINVAL,
	  "zone must be \"movable\" or \"kernel\"" },
	{ "{\"cmd\":\"online\",\"target\":\"memory1\",\"zone\":\"\"}", -EINVAL,
	  "zone must be \"movable\" or \"kernel\"" },
	{ "{\"cmd\":\"online\",\"target\":\"memory1\",\"zone\":1}", -EINVAL,
	  "\"zone\" must be a string" },
	{ "{\"cmd\":\"offline\",\"target\":\"memory1\",\"timeout\":0}", -EINVAL,
	  "timeout must be an integer number of seconds (1-3600)" },
	{ "{\"cmd\":\"offline\",\"target\":\"memory1\",\"timeout\":-5}", -EINVAL,
	  "timeout must be an integer number of seconds (1-3600)" },
	{ "{\"cmd\":\"offline\",\"target\":\"memory1\",\"timeout\":3601}", -EINVAL,
	  "timeout must be an integer number of seconds (1-3600)" },
	{ "{\"cmd\":\"offline\",\"target\":\"memory1\",\"timeout\":99999999999999999999}", -EINVAL,
	  "timeout must be an integer number of seconds (1-3600)" },
	{ "{\"cmd\":\"offline\",\"target\":\"memory1\",\"timeout\":1.5}", -EINVAL,
	  "timeout must be an integer number of seconds (1-3600)" },
	{ "{\"cmd\":\"offline\",\"target\":\"memory1\",\"timeout\":\"30\"}", -EINVAL,
	  "timeout must be an integer number of seconds (1-3600)" },
	{ "{\"cmd\":\"status\",\"x\":\"\xff\"}", -EINVAL, "malformed JSON: invalid utf-8 string" },
};

static void test_parse(void)
{
	struct control_request req;
	char err[256];
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(ok_cases); i++) {
		const struct ok_case *c = &ok_cases[i];

		r = control_parse_request(c->req, strlen(c->req), &req, err, sizeof(err));
		CHECK(r == 0, "%s: r=%d err=%s", c->req, r, err);
		if (r)
			continue;
		CHECK_EQ_INT(req.cmd, c->cmd);
		CHECK_STREQ(req.name, c->name);
		CHECK_STREQ(req.zone, c->zone);
		CHECK_EQ_INT(req.timeout_ms, c->timeout_ms);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];

		memset(&req, 0x5a, sizeof(req));
		r = control_parse_request(c->req, strlen(c->req), &req, err, sizeof(err));
		CHECK(r == c->err, "%s: r=%d, expected %d (%s)", c->req, r, c->err, err);
		CHECK(streq(err, c->msg), "%s: error \"%s\", expected \"%s\"", c->req, err, c->msg);
		CHECK(req.name[0] == '\0' && req.zone[0] == '\0', "%s: request not cleared",
		      c->req);
	}
}

static void test_parse_raw(void)
{
	struct control_request req;
	static char big[CONTROL_MAX_REQUEST + 2];
	char err[128];
	int r;

	/* embedded NUL: the length says where the line ends, not strlen */
	r = control_parse_request("{\"cmd\":\"status\"}\0x", 18, &req, err, sizeof(err));
	CHECK_EQ_INT(r, -EINVAL);
	CHECK_STREQ(err, "request contains a NUL byte");

	/* exactly CONTROL_MAX_REQUEST bytes is accepted, one more is E2BIG */
	memset(big, ' ', sizeof(big));
	memcpy(big, "{\"cmd\":\"status\"}", 16);
	r = control_parse_request(big, CONTROL_MAX_REQUEST, &req, err, sizeof(err));
	CHECK(r == 0, "4096-byte request: %d %s", r, err);
	r = control_parse_request(big, CONTROL_MAX_REQUEST + 1, &req, err, sizeof(err));
	CHECK_EQ_INT(r, -E2BIG);
	CHECK_STREQ(err, "request larger than 4096 bytes");

	/* deep nesting must fail fast, not recurse */
	memset(big, '[', CONTROL_MAX_REQUEST);
	r = control_parse_request(big, CONTROL_MAX_REQUEST, &req, err, sizeof(err));
	CHECK_EQ_INT(r, -EINVAL);
	CHECK_STREQ(err, "malformed JSON: nested too deeply");

	/* a tiny error buffer truncates but stays terminated; NULL is allowed */
	r = control_parse_request("{}", 2, &req, err, 5);
	CHECK_EQ_INT(r, -EINVAL);
	CHECK_STREQ(err, "miss");
	CHECK_EQ_INT(control_parse_request("{}", 2, &req, NULL, 0), -EINVAL);
}

static void test_names(void)
{
	CHECK_STREQ(control_cmd_name(CTL_STATUS), "status");
	CHECK_STREQ(control_cmd_name(CTL_LIST), "list");
	CHECK_STREQ(control_cmd_name(CTL_EXPLAIN), "explain");
	CHECK_STREQ(control_cmd_name(CTL_RELOAD), "reload");
	CHECK_STREQ(control_cmd_name(CTL_ONLINE), "online");
	CHECK_STREQ(control_cmd_name(CTL_OFFLINE), "offline");
	CHECK_STREQ(control_cmd_name((enum control_cmd)42), "unknown");
	CHECK(!control_cmd_mutates(CTL_STATUS));
	CHECK(!control_cmd_mutates(CTL_LIST));
	CHECK(!control_cmd_mutates(CTL_EXPLAIN));
	CHECK(control_cmd_mutates(CTL_RELOAD));
	CHECK(control_cmd_mutates(CTL_ONLINE));
	CHECK(control_cmd_mutates(CTL_OFFLINE));
}

/* ---- client against toy servers ---- */

enum server_mode { SRV_ECHO, SRV_SILENT, SRV_HANGUP, SRV_HUGE, SRV_SPLIT, SRV_RESET };

static char sockpath[108];

/* Fork a server that accepts one connection and behaves per mode. */
static pid_t serve(enum server_mode mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, cfd;
	pid_t pid;

	unlink(sockpath);
	strscpy_safe(sa.sun_path, sockpath, sizeof(sa.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
		perror("toy server");
		abort();
	}
	pid = fork();
	if (pid < 0)
		abort();
	if (pid > 0) {
		close(fd);
		return pid;
	}
	cfd = accept(fd, NULL, NULL);
	if (cfd < 0)
		_exit(2);
	if (mode == SRV_ECHO || mode == SRV_SPLIT) {
		char buf[8192];
		size_t len = 0;
		ssize_t n;

		while (!memchr(buf, '\n', len) && (n = read(cfd, buf + len, sizeof(buf) - len)) > 0)
			len += (size_t)n;
		/* reply {"got":<request>} */
		if (mode == SRV_SPLIT) {
			/* in pieces, with a pause, to exercise the read loop */
			if (write(cfd, "{\"got\":", 7) != 7)
				_exit(3);
			usleep(50000);
		} else if (write(cfd, "{\"got\":", 7) != 7) {
			_exit(3);
		}
		if (write(cfd, buf, len - 1) < 0 || write(cfd, "}\n", 2) != 2)
			_exit(3);
		pause();
	} else if (mode == SRV_RESET) {
		/* answer without reading, then close on the unread request: a reset */
		if (write(cfd, "{\"ok\":false,\"error\":\"busy\"}\n", 28) != 28)
			_exit(3);
		usleep(100000);
		close(cfd);
		pause();
	} else if (mode == SRV_SILENT) {
		pause();
	} else if (mode == SRV_HUGE) {
		static char chunk[1 << 20];

		memset(chunk, 'x', sizeof(chunk));
		for (unsigned i = 0; i <= CONTROL_MAX_REPLY / sizeof(chunk); i++)
			if (write(cfd, chunk, sizeof(chunk)) < 0)
				break;
		pause();
	}
	_exit(0);
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void test_client(void)
{
	char *reply = NULL;
	pid_t pid;
	int r;

	snprintf(sockpath, sizeof(sockpath), "/tmp/memhp-test-control-%d.sock", (int)getpid());
	unlink(sockpath);

	r = control_call(sockpath, "{\"cmd\":\"status\"}", &reply, 1000);
	CHECK_EQ_INT(r, -ENOENT);
	CHECK(reply == NULL);

	pid = serve(SRV_ECHO);
	r = control_call(sockpath, "{\"cmd\":\"status\"}", &reply, 2000);
	CHECK_EQ_INT(r, 0);
	CHECK(reply && streq(reply, "{\"got\":{\"cmd\":\"status\"}}"), "reply %s",
	      reply ? reply : "(null)");
	free(reply);
	reply = NULL;
	reap(pid);

	pid = serve(SRV_SPLIT);
	r = control_call(sockpath, "{\"cmd\":\"list\"}", &reply, 2000);
	CHECK_EQ_INT(r, 0);
	CHECK(reply && streq(reply, "{\"got\":{\"cmd\":\"list\"}}"), "reply %s",
	      reply ? reply : "(null)");
	free(reply);
	reply = NULL;
	reap(pid);

	/* the reply queued before the reset still reaches the caller */
	pid = serve(SRV_RESET);
	r = control_call(sockpath, "{\"cmd\":\"status\"}", &reply, 2000);
	CHECK_EQ_INT(r, 0);
	CHECK(reply && streq(reply, "{\"ok\":false,\"error\":\"busy\"}"), "reply %s",
	      reply ? reply : "(null)");
	free(reply);
	reply = NULL;
	reap(pid);

	pid = serve(SRV_SILENT);
	r = control_call(sockpath, "{\"cmd\":\"status\"}", &reply, 200);
	CHECK_EQ_INT(r, -ETIMEDOUT);
	CHECK(reply == NULL);
	reap(pid);

	pid = serve(SRV_HANGUP);
	r = control_call(sockpath, "{\"cmd\":\"status\"}", &reply, 2000);
	CHECK(r == -ECONNRESET || r == -EPIPE, "hang-up: %d", r);
	CHECK(reply == NULL);
	reap(pid);

	pid = serve(SRV_HUGE);
	r = control_call(sockpath, "{\"cmd\":\"list\"}", &reply, 10000);
	CHECK_EQ_INT(r, -EMSGSIZE);
	CHECK(reply == NULL);
	reap(pid);

	/* a listening socket nobody answers: bound but closed -> refused */
	pid = serve(SRV_HANGUP);
	reap(pid);
	r = control_call(sockpath, "{\"cmd\":\"status\"}", &reply, 1000);
	CHECK_EQ_INT(r, -ECONNREFUSED);

	/* requests the client refuses to send */
	CHECK_EQ_INT(control_call(sockpath, "{}\n{}", &reply, 100), -EINVAL);
	CHECK_EQ_INT(control_call("/tmp/"
				  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
				  "{}", &reply, 100),
		     -ENAMETOOLONG);
	unlink(sockpath);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_names();
	test_parse();
	test_parse_raw();
	test_client();
	return check_exit();
}
