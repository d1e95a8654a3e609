/* The engine's side of --console-socket, for the conformance suite: listens on a path, takes the pty
 * master a runtime sends over it (SCM_RIGHTS), and copies what the container writes to stdout until
 * the container's side is closed. Node cannot receive file descriptors, hence C. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2 || strlen(argv[1]) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		fprintf(stderr, "usage: console-recv SOCKET-PATH\n");
		return 2;
	}
	alarm(60);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	strcpy(addr.sun_path, argv[1]);
	int listener = socket(AF_UNIX, SOCK_STREAM, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(listener, 1) != 0) {
		perror("console-recv: listen");
		return 1;
	}
	int conn = accept(listener, NULL, NULL);
	if (conn < 0) {
		perror("console-recv: accept");
		return 1;
	}
	char byte;
	struct iovec iov = {&byte, 1};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
	if (recvmsg(conn, &msg, 0) < 0) {
		perror("console-recv: recvmsg");
		return 1;
	}
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
		fprintf(stderr, "console-recv: no file descriptor received\n");
		return 1;
	}
	int master;
	memcpy(&master, CMSG_DATA(c), sizeof master);
	char buf[4096];
	for (;;) {
		ssize_t n = read(master, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) /* EIO: every holder of the pty's other side has closed it */
			return 0;
		if (write(1, buf, (size_t)n) != n)
			return 1;
	}
}
