// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hpwait: runs inside a benchmark guest and waits, without polling, until N
 * hot-added memory blocks are online.  Built static on the host by
 * bench/vm-hotadd.py and shared with the guest over 9p.
 *
 *     hpwait COUNT TIMEOUT_S FIFO
 *
 * Listens to the kernel's uevents (NETLINK_KOBJECT_UEVENT, group 1: the
 * kernel's own, not udev's), daemonizes once the socket is bound (so the
 * caller knows nothing can be missed from then on), and counts "add" then
 * "online" of devices/system/memory/memoryN.  Every path that onlines a block
 * (kernel auto-online, a write to state by a udev rule or by memhpd) goes
 * through device_online(), which sends KOBJ_ONLINE.  When COUNT added blocks
 * are online (or at the timeout) it writes one line to FIFO:
 *
 *     added A online O first_add_ns T0 last_add_ns T1 last_online_ns T2 timeout X
 *
 * (CLOCK_MONOTONIC), so the host's `cat FIFO` returns exactly then.
 * Exit status 0, or 1 on a usage or socket error (printed).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BLOCKS (1 << 20)
#define PREFIX "/devices/system/memory/memory"

static unsigned char state[MAX_BLOCKS]; /* 1 added, 2 added and online */

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int parse_event(const char *buf, unsigned long *idx, bool *online)
{
	const char *at = strchr(buf, '@');
	char *end;

	if (!at)
		return -1;
	if (!strncmp(buf, "add@", 4))
		*online = false;
	else if (!strncmp(buf, "online@", 7))
		*online = true;
	else
		return -1;
	if (strncmp(at + 1, PREFIX, strlen(PREFIX)))
		return -1;
	errno = 0;
	*idx = strtoul(at + 1 + strlen(PREFIX), &end, 10);
	if (errno || *end || *idx >= MAX_BLOCKS)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	long long first_add = 0, last_add = 0, last_online = 0, deadline;
	unsigned long count, added = 0, online = 0;
	int fd, out, rcvbuf = 64 << 20;
	bool timed_out = false;
	char buf[8192];
	pid_t pid;

	if (argc != 4 || !(count = strtoul(argv[1], NULL, 10))) {
		fprintf(stderr, "usage: hpwait COUNT TIMEOUT_S FIFO\n");
		return 1;
	}
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("hpwait: netlink uevent socket");
		return 1;
	}
	/* a 512-block add is 1024 uevents: do not lose any (root may exceed rmem_max) */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	pid = fork();
	if (pid < 0) {
		perror("hpwait: fork");
		return 1;
	}
	if (pid > 0)
		return 0; /* listening: the caller may hot-add now */
	setsid();
	deadline = now_ns() + strtoll(argv[2], NULL, 10) * 1000000000LL;
	while (online < count) {
		long long left = deadline - now_ns();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		unsigned long idx;
		bool is_online;
		ssize_t n;

		if (left <= 0) {
			timed_out = true;
			break;
		}
		if (poll(&p, 1, (int)(left / 1000000) + 1) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			continue;
		buf[n] = '\0'; /* the first string is "action@devpath" */
		if (parse_event(buf, &idx, &is_online) < 0)
			continue;
		if (!is_online && !state[idx]) {
			state[idx] = 1;
			last_add = now_ns();
			if (!added++)
				first_add = last_add;
		} else if (is_online && state[idx] == 1) {
			state[idx] = 2;
			online++;
			last_online = now_ns();
		}
	}
	out = open(argv[3], O_WRONLY | O_CLOEXEC);
	if (out < 0)
		return 1;
	dprintf(out,
		"added %lu online %lu first_add_ns %lld last_add_ns %lld last_online_ns %lld "
		"timeout %d\n",
		added, online, first_add, last_add, last_online, timed_out);
	close(out);
	return 0;
}
