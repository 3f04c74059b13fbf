// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Part of libmemhp-umockdev.so (LD_PRELOAD, with libumockdev-preload): every
 * write() to a file inside the umockdev testbed is a request to the "kernel"
 * that test_memhpd.py plays, answered before write() returns, as a sysfs
 * store is.  Only then can the daemon's verify-after-write (state and
 * valid_zones, the dax driver link) see what a kernel would have done.
 *
 * Active when MEMHP_TEST_KERNEL_ROOT names a directory other than "/" and
 * MEMHP_TEST_KERNEL_SOCKET a SOCK_SEQPACKET unix socket.  For a write on fd
 * whose /proc/self/fd link lies inside the root, one packet
 *     "<path relative to the root>\0<bytes written>"
 * is sent and one reply "<errno>" (decimal, 0 = accepted) awaited.  Accepted
 * writes return the full count (the kernel side updated the file itself);
 * refused ones return -1 with that errno.  If the kernel side is unreachable
 * the write fails with EIO and a line on stderr: a test must never silently
 * fall back to writing plain files.
 *
 * The daemon is single-threaded; so is this.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define RPC_VAL_MAX 4096
#define EXPORT __attribute__((visibility("default")))

static ssize_t (*real_write)(int, const void *, size_t);
static int active = -1;
static char root[PATH_MAX];
static size_t rootlen;
static struct sockaddr_un addr;
static int conn = -1;

static void rpc_init(void)
{
	const char *r, *s;

	if (active >= 0)
		return;
	real_write = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	active = 0;
	r = getenv("MEMHP_TEST_KERNEL_ROOT");
	s = getenv("MEMHP_TEST_KERNEL_SOCKET");
	if (!r || !*r || !s || !*s)
		return;
	if (!realpath(r, root) || strcmp(root, "/") == 0 || strlen(s) >= sizeof(addr.sun_path)) {
		fprintf(stderr,
			"kernelrpc: MEMHP_TEST_KERNEL_ROOT=%s or _SOCKET=%s unusable; "
			"writes pass through\n",
			r, s);
		return;
	}
	rootlen = strlen(root);
	addr.sun_family = AF_UNIX;
	strcpy(addr.sun_path, s);
	active = 1;
}

__attribute__((constructor)) static void rpc_ctor(void)
{
	rpc_init();
}

/* Path relative to the root, or false when fd is not a file inside it. */
static bool rel_path(int fd, char *rel, size_t size)
{
	char link[64], target[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return false;
	target[n] = '\0';
	if (strncmp(target, root, rootlen) != 0 || target[rootlen] != '/')
		return false;
	return (size_t)snprintf(rel, size, "%s", target + rootlen + 1) < size;
}

static int rpc_connect(void)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

/* Returns the kernel's errno for the store (0 accepted), or -errno if unreachable. */
static int rpc_call(const char *rel, const void *buf, size_t n)
{
	static char pkt[PATH_MAX + RPC_VAL_MAX + 1];
	size_t rl = strlen(rel) + 1;
	char reply[32];
	ssize_t got;

	if (n > RPC_VAL_MAX)
		return -E2BIG;
	memcpy(pkt, rel, rl);
	memcpy(pkt + rl, buf, n);
	for (int attempt = 0; attempt < 2; attempt++) {
		if (conn < 0) {
			conn = rpc_connect();
			if (conn < 0)
				return conn;
		}
		if (send(conn, pkt, rl + n, MSG_NOSIGNAL) == (ssize_t)(rl + n)) {
			got = recv(conn, reply, sizeof(reply) - 1, 0);
			if (got > 0) {
				reply[got] = '\0';
				return atoi(reply);
			}
		}
		close(conn); /* the test's kernel restarted its server: once more */
		conn = -1;
	}
	return -EPIPE;
}

EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	char rel[PATH_MAX];
	int saved = errno, r;

	rpc_init();
	if (active != 1 || fd < 3 || !rel_path(fd, rel, sizeof(rel))) {
		errno = saved;
		return real_write(fd, buf, n);
	}
	r = rpc_call(rel, buf, n);
	if (r < 0) {
		fprintf(stderr, "kernelrpc: write to %s: test kernel unreachable: %s\n", rel,
			strerror(-r));
		errno = EIO;
		return -1;
	}
	if (r > 0) {
		errno = r;
		return -1;
	}
	errno = saved;
	return (ssize_t)n;
}
