// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Part of libmemhp-umockdev.so: make the uevent monitor socket report a
 * netlink overflow once, on demand.
 *
 * umockdev delivers uevents over a unix socket that stands in for the
 * netlink one, and nothing can overflow it the way a kernel event storm
 * overflows netlink.  So: when the file named by MEMHP_TEST_ENOBUFS_TRIGGER
 * exists, the next recvmsg()/recv()/recvfrom() on a uevent socket deletes it
 * and fails with ENOBUFS, as recvmsg on an overflowed netlink socket does
 * (the queued datagram stays for the next call).  libudev (systemd 252
 * sd-device monitor) reads with recvmsg; recv/recvfrom are covered in case
 * another version does.
 *
 * A uevent socket is an AF_NETLINK one, or under umockdev an AF_UNIX socket
 * bound inside $UMOCKDEV_DIR (where libumockdev-preload puts the stand-in).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

static bool is_uevent_socket(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	const char *dir = getenv("UMOCKDEV_DIR");
	const struct sockaddr_un *un = (const struct sockaddr_un *)&ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return false;
	if (ss.ss_family == AF_NETLINK)
		return true;
	if (ss.ss_family != AF_UNIX || !dir || !*dir || len <= sizeof(sa_family_t))
		return false;
	return strncmp(un->sun_path, dir, strlen(dir)) == 0;
}

/* True (errno = ENOBUFS) when this call is the one to fail. */
static bool inject(int fd)
{
	const char *trigger = getenv("MEMHP_TEST_ENOBUFS_TRIGGER");
	int saved = errno;

	if (!trigger || !*trigger || !is_uevent_socket(fd) || unlink(trigger) < 0) {
		errno = saved;
		return false;
	}
	errno = ENOBUFS;
	return true;
}

EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	static ssize_t (*real)(int, struct msghdr *, int);

	if (!real)
		real = (ssize_t(*)(int, struct msghdr *, int))dlsym(RTLD_NEXT, "recvmsg");
	if (inject(fd))
		return -1;
	return real(fd, msg, flags);
}

EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	static ssize_t (*real)(int, void *, size_t, int);

	if (!real)
		real = (ssize_t(*)(int, void *, size_t, int))dlsym(RTLD_NEXT, "recv");
	if (inject(fd))
		return -1;
	return real(fd, buf, n, flags);
}

EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from,
			socklen_t *fromlen)
{
	static ssize_t (*real)(int, void *, size_t, int, struct sockaddr *, socklen_t *);

	if (!real)
		real = (ssize_t(*)(int, void *, size_t, int, struct sockaddr *, socklen_t *))dlsym(
			RTLD_NEXT, "recvfrom");
	if (inject(fd))
		return -1;
	return real(fd, buf, n, flags, from, fromlen);
}
