/* The engine's --console-socket (runc's protocol): one message whose payload is the pty's name and
 * whose one SCM_RIGHTS fd is the pty's master. The keeper forwards the master the CT's init made;
 * `run` (for `pxoci exec`) makes a pty of its own. */
#ifndef PXOCI_CONSOLE_SOCKET_H
#define PXOCI_CONSOLE_SOCKET_H

#include <sys/ioctl.h>

/* Sends master, named name, to the engine listening on socket_path; 0, or -1 with errno set. */
int send_console(const char *socket_path, int master, const char *name);

/* A new pty of the given size (NULL: the kernel's default) whose master goes to socket_path: returns
 * the slave, or -1 with errno set. */
int open_console(const char *socket_path, const struct winsize *size);

#endif
