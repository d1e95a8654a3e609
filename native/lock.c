/* pxoci-helper lock <file> <timeout-seconds>
 *
 * Node has no flock(2). PVE serialises config changes with flock on
 * /run/lock/lxc/pve-config-<vmid>.lock, so we take the very same lock here and
 * hold it for as long as our caller keeps our stdin open. A caller that dies
 * (even by SIGKILL) closes the pipe, so the lock can never outlive it.
 */
#include "helper-commands.h"
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cmd_lock(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: pxoci-helper lock <file> <timeout-seconds>\n");
		return 2;
	}
	const char *path = argv[1];
	double timeout = atof(argv[2]);

	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "can't open file '%s' - %s\n", path, strerror(errno));
		return 1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK) {
			fprintf(stderr, "can't lock file '%s' - %s\n", path, strerror(errno));
			return 1;
		}
		/* PVE's lock_file_full prints this once when it has to wait. */
		fprintf(stderr, "trying to acquire lock...\n");
		double deadline = now_seconds() + timeout;
		for (;;) {
			struct timespec pause = {0, 10 * 1000 * 1000};
			nanosleep(&pause, NULL);
			if (flock(fd, LOCK_EX | LOCK_NB) == 0)
				break;
			if (errno != EWOULDBLOCK || now_seconds() >= deadline) {
				fprintf(stderr, "can't lock file '%s' - got timeout\n", path);
				return 1;
			}
		}
	}
	if (write_all(STDOUT_FILENO, "locked\n", 7) != 0)
		return 1;

	char buf[64];
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
		if (n == 0)
			break;
		if (n < 0 && errno != EINTR)
			break;
	}
	return 0;
}
