// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control socket: one JSON request per line, one JSON reply per line
 * (protocol and parser in src/lib/control.c).
 *
 * The socket is mode 0666: any local user may ask status, list and explain.
 * Commands that change something need uid 0, taken from SO_PEERCRED at
 * accept time, never from the request.  Nothing a client does may block or
 * crash the daemon: sockets are non-blocking, requests are bounded, a client
 * gets its next request read only after its previous reply has been written
 * (so a client that never reads holds one reply, not many), there are at
 * most CONTROL_MAX_CLIENTS at a time and idle ones are dropped.
 */
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "control.h"
#include "memhpd.h"
#include "render.h"
#include "target.h"

#define CONTROL_MAX_CLIENTS 16
#define CONTROL_IDLE_USEC (30ULL * 1000000ULL)
#define CONTROL_ACCEPT_RETRY_USEC (1000000ULL)
/*
 * Closing a socket with unread input makes the kernel report ECONNRESET to the
 * peer, which may then never see our error reply.  So after the last reply
 * we shut down our side and discard input until the peer closes, for a while.
 */
#define CONTROL_DRAIN_USEC (2ULL * 1000000ULL)
#define CONTROL_DRAIN_MAX (1u << 20)

struct client {
	struct daemon *d;
	int fd;
	uid_t uid;
	pid_t pid;
	sd_event_source *io;
	sd_event_source *idle;
	char in[CONTROL_MAX_REQUEST + 1]; /* a full buffer without '\n' is too long */
	size_t inlen;
	char *out;
	size_t outlen, outoff;
	bool eof; /* peer shut down its side: answer what is buffered, then close */
	bool close_after; /* close once the output is written */
	bool draining; /* output done and shut down: discard input until EOF */
	size_t drained;
	struct client *next;
};

/* One daemon per process: the listener's own bookkeeping. */
static struct client *clients;
static char bound_path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
static dev_t bound_dev;
static ino_t bound_ino;
static bool listening;
static sd_event_source *accept_retry_src;

static void client_free(struct client *c)
{
	struct daemon *d = c->d;
	struct client **p;

	for (p = &clients; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	sd_event_source_disable_unref(c->io);
	sd_event_source_disable_unref(c->idle);
	if (c->fd >= 0)
		close(c->fd);
	if (d->nclients)
		d->nclients--;
	free(c->out);
	free(c);
	/*
	 * The last client is gone.  A reply builds its whole JSON first: at
	 * 65,536 blocks "status" took 4 MiB of heap, which glibc keeps after
	 * the free, so an idle daemon carried it from its first client on.
	 * Give it back (bench/scale.py's RSS row asks "status" first).
	 */
	if (!d->nclients)
		malloc_trim(0);
}

static json_object *reply_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_object *reply_error(const char *fmt, ...)
{
	json_object *o = json_object_new_object();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "ok", json_object_new_boolean(false));
	json_object_object_add(o, "error", json_object_new_string(msg));
	return o;
}

static json_object *reply_ok(void)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(true));
	return o;
}

static json_object *counters_to_json(const struct counters *k)
{
	json_object *o = json_object_new_object();

#define C(f) json_object_object_add(o, #f, json_object_new_uint64(k->f))
	C(events);
	C(batches);
	C(batches_early);
	C(rescans);
	C(enobufs);
	C(decisions_online);
	C(decisions_leave);
	C(blocks_onlined);
	C(blocks_offlined);
	C(conflicts);
	C(failures_ebusy);
	C(failures_einval);
	C(failures_other);
	C(failures_node_timeout);
	C(dax_reconfigured);
	C(reloads);
	C(reload_failures);
#undef C
	return o;
}

static json_object *handle_status(struct daemon *d)
{
	json_object *o = reply_ok(), *st = json_object_new_object();
	json_object *files = json_object_new_array();
	json_object *devs;

	for (size_t i = 0; i < d->cfg.files.n; i++)
		json_object_array_add(files, json_object_new_string(d->cfg.files.v[i]));
	json_object_object_add(st, "text", json_object_new_string(d->status));
	json_object_object_add(st, "version", json_object_new_string(MEMHP_VERSION));
	json_object_object_add(st, "sysroot",
			       json_object_new_string(d->sr ? sysroot_path(d->sr) : "/"));
	json_object_object_add(st, "config_files", files);
	json_object_object_add(st, "counters", counters_to_json(&d->st.cnt));
	devs = state_to_json(&d->st);
	json_object_object_add(st, "devices", devs ? devs : json_object_new_array());
	json_object_object_add(o, "status", st);
	return o;
}

static json_object *handle_list(struct daemon *d)
{
	json_object *o;

	if (!d->m)
		return reply_error("no machine snapshot yet");
	o = reply_ok();
	json_object_object_add(o, "machine", render_machine(d->m, RENDER_ALL));
	return o;
}

static json_object *handle_explain(struct daemon *d, const char *name)
{
	const struct mem_device *dev = NULL;
	const struct dax_device *dax = NULL;
	struct decision dec;
	struct target t;
	json_object *o, *dj;
	char msg[256];
	int r;

	if (!d->m)
		return reply_error("no machine snapshot yet");
	r = target_resolve(d->m, name, &t, msg, sizeof(msg));
	if (r < 0)
		return reply_error("%s", msg);
	if (t.device)
		dev = t.device;
	else if (t.dax)
		dax = t.dax;
	else if (t.nblocks && d->m->blocks[t.blocks[0]].device >= 0)
		dev = &d->m->devices[d->m->blocks[t.blocks[0]].device];
	target_free(&t);
	if (!dev && !dax)
		return reply_error("%s belongs to no device", name);

	decision_init(&dec);
	r = dev ? policy_decide(&d->cfg, d->m, dev, &dec)
		: policy_decide_dax(&d->cfg, d->m, dax, &dec);
	if (r < 0) {
		decision_free(&dec);
		return reply_error("cannot decide for %s: %s", name, strerror(-r));
	}
	dj = render_decision(d->m, dev, &dec);
	decision_free(&dec);
	if (!dj)
		return reply_error("cannot render the decision for %s", name);
	json_object_object_add(dj, "name", json_object_new_string(dev ? dev->id : dax->name));
	if (dev)
		json_object_object_add(dj, "device", render_device(d->m, dev));
	else
		json_object_object_add(dj, "dax", render_dax(d->m, dax));
	o = reply_ok();
	json_object_object_add(o, "decision", dj);
	return o;
}

static json_object *handle_reload(struct daemon *d)
{
	char msg[512] = "";
	int r;

	r = daemon_reload(d, msg, sizeof(msg));
	if (r < 0)
		return reply_error("%s", msg[0] ? msg : strerror(-r));
	return reply_ok();
}

static json_object *handle_change(struct daemon *d, const struct control_request *req)
{
	const char *op = req->cmd == CTL_ONLINE ? "online" : "offline";
	unsigned timeout = req->timeout_ms;
	json_object *o = json_object_new_object(), *e;
	int r;

	if (!timeout && req->cmd == CTL_OFFLINE)
		timeout = d->cfg.offline_timeout_ms;
	/* "ok" first so it leads the reply; its value is set below */
	json_object_object_add(o, "ok", json_object_new_boolean(false));
	r = engine_request(d, op, req->name, req->zone[0] ? req->zone : NULL, timeout, o);
	json_object_object_add(o, "ok", json_object_new_boolean(r >= 0));
	if (r < 0 && (!json_object_object_get_ex(o, "error", &e) ||
		      !json_object_is_type(e, json_type_string)))
		json_object_object_add(o, "error", json_object_new_string(strerror(-r)));
	return o;
}

static json_object *handle_line(struct client *c, const char *line, size_t len)
{
	struct daemon *d = c->d;
	struct control_request req;
	char err[256];
	int r;

	r = control_parse_request(line, len, &req, err, sizeof(err));
	if (r < 0) {
		log_debug("control: request from pid %d uid %u rejected: %s", (int)c->pid,
			  (unsigned)c->uid, err);
		return reply_error("%s", err);
	}
	if (control_cmd_mutates(req.cmd)) {
		if (c->uid != 0) {
			log_notice("control: %s from pid %d uid %u refused: not root",
				   control_cmd_name(req.cmd), (int)c->pid, (unsigned)c->uid);
			return reply_error("permission denied: %s needs root",
					   control_cmd_name(req.cmd));
		}
		log_info("control: %s%s%s requested by pid %d", control_cmd_name(req.cmd),
			 req.name[0] ? " " : "", req.name, (int)c->pid);
	}

	switch (req.cmd) {
	case CTL_STATUS:
		return handle_status(d);
	case CTL_LIST:
		return handle_list(d);
	case CTL_EXPLAIN:
		return handle_explain(d, req.name);
	case CTL_RELOAD:
		return handle_reload(d);
	case CTL_ONLINE:
	case CTL_OFFLINE:
		return handle_change(d, &req);
	}
	return reply_error("unknown command");
}

/* Serialize o (consumed) as the client's pending output line. */
static int client_queue(struct client *c, json_object *o)
{
	json_object *big = NULL;
	const char *s;
	size_t len;

	if (!o)
		o = reply_error("out of memory");
	if (!o)
		return -ENOMEM;
	s = json_object_to_json_string_length(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (s && len > CONTROL_MAX_REPLY) {
		big = reply_error("reply too large (%zu bytes)", len);
		s = json_object_to_json_string_length(big, JSON_C_TO_STRING_PLAIN, &len);
	}
	if (!s) {
		json_object_put(o);
		json_object_put(big);
		return -ENOMEM;
	}
	free(c->out);
	c->out = malloc(len + 1);
	if (!c->out) {
		json_object_put(o);
		json_object_put(big);
		return -ENOMEM;
	}
	memcpy(c->out, s, len);
	c->out[len] = '\n';
	c->outlen = len + 1;
	c->outoff = 0;
	json_object_put(o);
	json_object_put(big);
	return 0;
}

/* Write pending output: 1 all written, 0 would block, <0 the client is gone. */
static int client_flush(struct client *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -errno;
		}
		c->outoff += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	c->outlen = c->outoff = 0;
	return 1;
}

/*
 * Move the client on as far as it can go without blocking: write, answer the
 * next buffered line, repeat; then wait for the one event that unblocks it.
 * Frees the client when it is done; returns without touching it then.
 */
static void client_pump(struct client *c)
{
	for (;;) {
		char *nl;
		int r;

		if (c->out) {
			r = client_flush(c);
			if (r < 0) {
				log_debug("control: client pid %d went away: %s", (int)c->pid,
					  strerror(-r));
				client_free(c);
				return;
			}
			if (r == 0) {
				sd_event_source_set_io_events(c->io, EPOLLOUT);
				return;
			}
		}
		if (c->close_after) {
			if (shutdown(c->fd, SHUT_WR) < 0) {
				client_free(c);
				return;
			}
			c->draining = true;
			c->close_after = false;
			sd_event_source_set_time_relative(c->idle, CONTROL_DRAIN_USEC);
			sd_event_source_set_enabled(c->idle, SD_EVENT_ONESHOT);
			sd_event_source_set_io_events(c->io, EPOLLIN);
			return;
		}
		nl = memchr(c->in, '\n', c->inlen);
		if (nl) {
			size_t len = (size_t)(nl - c->in);

			r = client_queue(c, handle_line(c, c->in, len));
			c->inlen -= len + 1;
			memmove(c->in, nl + 1, c->inlen);
			if (r < 0) {
				client_free(c);
				return;
			}
			continue;
		}
		if (c->inlen >= sizeof(c->in)) {
			log_debug("control: request from pid %d too long", (int)c->pid);
			c->inlen = 0;
			c->close_after = true;
			if (client_queue(c, reply_error("request larger than %d bytes",
							CONTROL_MAX_REQUEST)) < 0) {
				client_free(c);
				return;
			}
			continue;
		}
		if (c->eof) {
			client_free(c);
			return;
		}
		sd_event_source_set_io_events(c->io, EPOLLIN);
		return;
	}
}

static void client_touch(struct client *c)
{
	sd_event_source_set_time_relative(c->idle, CONTROL_IDLE_USEC);
	sd_event_source_set_enabled(c->idle, SD_EVENT_ONESHOT);
}

static void client_drain(struct client *c)
{
	char buf[4096];

	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		c->drained += n > 0 ? (size_t)n : 0;
		if (n <= 0 || c->drained > CONTROL_DRAIN_MAX) {
			client_free(c);
			return;
		}
	}
}

static int on_client_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct client *c = userdata;

	if (c->draining) {
		client_drain(c);
		return 0;
	}

	/* reading only while no reply is pending: see client_pump */
	if (!c->out && !c->eof && (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		ssize_t n = recv(fd, c->in + c->inlen, sizeof(c->in) - c->inlen, MSG_DONTWAIT);

		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			log_debug("control: client pid %d: %s", (int)c->pid, strerror(errno));
			client_free(c);
			return 0;
		}
		if (n == 0)
			c->eof = true;
		if (n > 0)
			c->inlen += (size_t)n;
	}
	client_touch(c);
	client_pump(c);
	return 0;
}

static int on_client_idle(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct client *c = userdata;

	log_debug("control: closing idle client pid %d", (int)c->pid);
	client_free(c);
	return 0;
}

static void reject_client(int fd, const char *msg)
{
	char buf[CONTROL_MAX_REQUEST];
	int n;

	n = snprintf(buf, sizeof(buf), "{\"ok\":false,\"error\":\"%s\"}\n", msg);
	if (n > 0 && (size_t)n < sizeof(buf) &&
	    send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("control: cannot tell a rejected client why: %s", strerror(errno));
	/* best effort against the reset on close with unread input (see CONTROL_DRAIN_USEC) */
	shutdown(fd, SHUT_WR);
	for (unsigned i = 0; i < 4 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0; i++)
		;
	close(fd);
}

static int on_accept_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;

	if (d->control_src)
		sd_event_source_set_enabled(d->control_src, SD_EVENT_ON);
	return 0;
}

static int on_listen(sd_event_source *s, int lfd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;

	for (unsigned i = 0; i < 64; i++) {
		struct ucred cred = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
		socklen_t clen = sizeof(cred);
		struct client *c;
		int fd, r;

		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				return 0;
			log_warn("control: accept on %s failed: %s; pausing for 1s", bound_path,
				 strerror(errno));
			/* EMFILE and friends: do not spin on a listener we cannot drain */
			sd_event_source_set_enabled(s, SD_EVENT_OFF);
			if (!accept_retry_src)
				r = sd_event_add_time_relative(
					d->ev, &accept_retry_src, CLOCK_MONOTONIC,
					CONTROL_ACCEPT_RETRY_USEC, 0, on_accept_retry, d);
			else
				r = sd_event_source_set_time_relative(accept_retry_src,
								      CONTROL_ACCEPT_RETRY_USEC);
			if (r >= 0)
				r = sd_event_source_set_enabled(accept_retry_src, SD_EVENT_ONESHOT);
			if (r < 0)
				sd_event_source_set_enabled(s, SD_EVENT_ON);
			return 0;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
			/* unknown peer: treated as unprivileged */
			log_warn("control: SO_PEERCRED failed: %s", strerror(errno));
			cred.uid = (uid_t)-1;
		}
		if (d->nclients >= CONTROL_MAX_CLIENTS) {
			log_warn("control: refusing client pid %d: %u clients already connected",
				 (int)cred.pid, d->nclients);
			reject_client(fd, "too many clients, try again later");
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			reject_client(fd, "out of memory");
			continue;
		}
		c->d = d;
		c->fd = fd;
		c->uid = cred.uid;
		c->pid = cred.pid;
		r = sd_event_add_io(d->ev, &c->io, fd, EPOLLIN, on_client_io, c);
		if (r >= 0)
			r = sd_event_add_time_relative(d->ev, &c->idle, CLOCK_MONOTONIC,
						       CONTROL_IDLE_USEC, 0, on_client_idle, c);
		if (r < 0) {
			log_warn("control: cannot watch a new client: %s", strerror(-r));
			sd_event_source_disable_unref(c->io);
			free(c);
			reject_client(fd, "internal error");
			continue;
		}
		c->next = clients;
		clients = c;
		d->nclients++;
		log_debug("control: client pid %d uid %u connected", (int)c->pid, (unsigned)c->uid);
	}
	return 0;
}

/* mkdir -p of the socket's directory, 0755 for what we create. */
static int mkdir_parents(const char *path)
{
	char buf[sizeof(bound_path)];
	char *p;

	if (strscpy_safe(buf, path, sizeof(buf)) < 0)
		return -ENAMETOOLONG;
	p = strrchr(buf, '/');
	if (!p || p == buf)
		return 0;
	*p = '\0';
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Is a daemon answering on this socket file? */
static bool socket_alive(const struct sockaddr_un *sa)
{
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return false;
	return connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 || errno == EAGAIN;
}

int control_start(struct daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = d->cfg.control_socket;
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	if (listening)
		return 0;
	if (!path[0]) {
		log_info("control socket disabled (control_socket is empty)");
		return 0;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("control socket path %s is longer than %zu bytes", path,
			sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* a client that disconnects mid-reply must not kill us (send uses MSG_NOSIGNAL too) */
	signal(SIGPIPE, SIG_IGN);

	r = mkdir_parents(path);
	if (r < 0) {
		log_err("cannot create the directory of control socket %s: %s", path, strerror(-r));
		return r;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_err("control socket %s exists and is not a socket; not removing it",
				path);
			return -EEXIST;
		}
		if (socket_alive(&sa)) {
			log_err("control socket %s: another memhpd is already listening", path);
			return -EADDRINUSE;
		}
		if (unlink(path) < 0 && errno != ENOENT) {
			r = -errno;
			log_err("cannot remove stale control socket %s: %s", path, strerror(-r));
			return r;
		}
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = -errno;
		log_err("cannot create the control socket: %s", strerror(-r));
		return r;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		log_err("cannot bind control socket %s: %s", path, strerror(-r));
		return r;
	}
	/* everyone may connect; what they may do is decided by SO_PEERCRED */
	if (chmod(path, 0666) < 0 || lstat(path, &st) < 0) {
		r = -errno;
		log_err("cannot set mode 0666 on control socket %s: %s", path, strerror(-r));
		unlink(path);
		return r;
	}
	if (listen(fd, SOMAXCONN) < 0) {
		r = -errno;
		log_err("cannot listen on control socket %s: %s", path, strerror(-r));
		unlink(path);
		return r;
	}
	r = sd_event_add_io(d->ev, &d->control_src, fd, EPOLLIN, on_listen, d);
	if (r < 0) {
		log_err("cannot watch control socket %s: %s", path, strerror(-r));
		unlink(path);
		return r;
	}
	strscpy_safe(bound_path, path, sizeof(bound_path));
	bound_dev = st.st_dev;
	bound_ino = st.st_ino;
	listening = true;
	d->control_fd = TAKE_FD(fd);
	d->nclients = 0;
	log_debug("control socket listening on %s", path);
	return 0;
}

void control_stop(struct daemon *d)
{
	struct stat st;

	while (clients)
		client_free(clients);
	accept_retry_src = sd_event_source_disable_unref(accept_retry_src);
	if (!listening)
		return;
	d->control_src = sd_event_source_disable_unref(d->control_src);
	if (d->control_fd >= 0)
		close(d->control_fd);
	d->control_fd = -1;
	/* remove the socket file only if it is still ours */
	if (lstat(bound_path, &st) == 0 && st.st_dev == bound_dev && st.st_ino == bound_ino)
		unlink(bound_path);
	listening = false;
}
