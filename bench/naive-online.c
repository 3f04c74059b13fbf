// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * naive-online SYSROOT: the reference onliner of bench/scale.py's coldplug.
 *
 * What a distro udev rule or `chmem -e` does, with no policy: every memory
 * block whose state reads "offline" gets "online_movable" written to its
 * state, in directory order, and nothing is read back.  Run under the fake
 * kernel (LD_PRELOAD libmemhp-fakekernel.so, MEMHP_FAKE_ROOT=SYSROOT) it
 * gives the floor of onlining through the emulated kernel: memhpd --once
 * is compared with it per block onlined.  Never run it without a sysroot
 * that is a scratch copy: it writes.  Prints "onlined N refused N".
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned long onlined = 0, refused = 0;
	char dir[4096], path[4600], buf[32];
	struct dirent *de;
	DIR *d;

	if (argc != 2 || argv[1][0] != '/' || !strcmp(argv[1], "/")) {
		fprintf(stderr, "usage: naive-online /SCRATCH/SYSROOT\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/sys/devices/system/memory", argv[1]);
	d = opendir(dir);
	if (!d) {
		perror(dir);
		return 1;
	}
	while ((de = readdir(d))) {
		ssize_t n;
		int fd;

		if (strncmp(de->d_name, "memory", 6) || de->d_name[6] < '0' || de->d_name[6] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/%s/state", dir, de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0 || strncmp(buf, "offline", 7))
			continue;
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			refused++;
			continue;
		}
		if (write(fd, "online_movable", 14) == 14)
			onlined++;
		else
			refused++;
		close(fd);
	}
	closedir(d);
	printf("onlined %lu refused %lu\n", onlined, refused);
	return 0;
}
