// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uonline: the least a userspace onliner can do, as a reference for
 * bench/vm-hotadd.py (method "loop").  Built static on the host and shared
 * with the guest over 9p, like hpwait.
 *
 *     uonline PIDFILE
 *
 * Listens to the kernel's uevents (NETLINK_KOBJECT_UEVENT, group 1: no udevd
 * in between), daemonizes once the socket is bound and writes its pid to
 * PIDFILE, then writes "online_movable" to the state of every memory block
 * whose "add" it sees, one after the other, as the event arrives: no policy,
 * no device grouping, no reading back, no waiting for the DIMM's ACPI bind.
 * EBUSY/EAGAIN are retried (1 ms apart, at most 1000 times); anything else is
 * ignored (EINVAL: onlined already).  It runs until killed.
 *
 * The difference between memhpd and this is what memhpd's decisions and
 * checks cost; the difference between this and the kernel's auto-online is
 * what any userspace onliner costs (the uevent's way out, one write(2) and
 * device_hotplug_lock per block).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PREFIX "add@/devices/system/memory/memory"

static void online(unsigned long idx)
{
	static const char val[] = "online_movable";
	const struct timespec ms = { 0, 1000000 };
	char path[96];

	snprintf(path, sizeof(path), "/sys/devices/system/memory/memory%lu/state", idx);
	for (int tries = 0; tries < 1000; tries++) {
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		ssize_t n;
		int err;

		if (fd < 0)
			return;
		n = write(fd, val, strlen(val));
		err = errno;
		close(fd);
		if (n >= 0 || (err != EBUSY && err != EAGAIN))
			return;
		nanosleep(&ms, NULL);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	int fd, rcvbuf = 64 << 20;
	char buf[8192];
	FILE *f;
	pid_t pid;

	if (argc != 2) {
		fprintf(stderr, "usage: uonline PIDFILE\n");
		return 1;
	}
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("uonline: netlink uevent socket");
		return 1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	pid = fork();
	if (pid < 0) {
		perror("uonline: fork");
		return 1;
	}
	if (pid > 0)
		return 0; /* listening: the caller may hot-add now */
	setsid();
	f = fopen(argv[1], "w");
	if (f) {
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	}
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
		unsigned long idx;
		char *end;

		if (n <= 0)
			continue;
		buf[n] = '\0'; /* the first string is "action@devpath" */
		if (strncmp(buf, PREFIX, strlen(PREFIX)))
			continue;
		errno = 0;
		idx = strtoul(buf + strlen(PREFIX), &end, 10);
		if (errno || end == buf + strlen(PREFIX) || *end)
			continue;
		online(idx);
	}
}
