/* pxoci-helper: the few things pxoci needs that Node cannot do. */
#include "helper.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2) {
		if (strcmp(argv[1], "lock") == 0)
			return cmd_lock(argc - 1, argv + 1);
		if (strcmp(argv[1], "keeper") == 0)
			return cmd_keeper(argc - 1, argv + 1);
		if (strcmp(argv[1], "run") == 0)
			return cmd_run(argc - 1, argv + 1);
		if (strcmp(argv[1], "nsexec") == 0)
			return cmd_nsexec(argc - 1, argv + 1);
	}
	fprintf(stderr, "usage: pxoci-helper lock|keeper|run|nsexec ...\n");
	return 2;
}
