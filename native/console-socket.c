/* The console-socket protocol: see console-socket.h. */
#include "console-socket.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

int send_console(const char *socket_path, int master, const char *name)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(socket_path) >= sizeof addr.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(addr.sun_path, socket_path);
	if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof addr) != 0)
		return -1;
	/* The console-socket protocol is one plain message: payload = pty name, one fd = the master. */
	struct iovec iov = {(void *)name, strlen(name)};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	memset(&control, 0, sizeof control);
	struct msghdr msg = {0};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control.buf;
	msg.msg_controllen = sizeof control.buf;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &master, sizeof(int));
	int rc = sendmsg(s, &msg, MSG_NOSIGNAL) < 0 ? -1 : 0;
	close(s);
	return rc;
}

int open_console(const char *socket_path, const struct winsize *size)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	char *name = master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0 ? ptsname(master) : NULL;
	int slave = name ? open(name, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
	/* Sized before the engine has the master, as runc does: a resize the engine makes at once wins. */
	int sized = slave >= 0 && (!size || ioctl(slave, TIOCSWINSZ, size) == 0);
	if (!sized || send_console(socket_path, master, name) != 0) {
		int err = errno;
		if (master >= 0)
			close(master);
		if (slave >= 0)
			close(slave);
		errno = err;
		return -1;
	}
	close(master);
	return slave;
}
