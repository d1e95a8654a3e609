/* The keeper inside the CT: see keeper-ct.h and docs/DESIGN.md ("The keeper"). */
#include "keeper-ct.h"
#include "exit-status.h"
#include "io.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Where the CT's init listens (native/init-keeper.c), as the CT sees it. */
#define INIT_SOCKET "/.pxoci/run/init.sock"

/* Through the state dir's fd, never a path: a state dir removed and re-created behind pxoci's back is
 * another directory, which this keeper (of the old container) must never write into. In the removed
 * one, openat fails (ENOENT) and nothing is written. */
static void write_state_file(int dir, const char *name, const char *text)
{
	char tmp[256];
	snprintf(tmp, sizeof tmp, ".%s.tmp", name);
	unlinkat(dir, tmp, 0);
	int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	int ok = write_all(fd, text, strlen(text)) == 0 && fsync(fd) == 0;
	close(fd);
	if (!ok || renameat(dir, tmp, dir, name) != 0)
		unlinkat(dir, tmp, 0);
}

static void write_exit(const struct keeper_ct *k, int status)
{
	char text[32];
	snprintf(text, sizeof text, "%d\n", status);
	write_state_file(k->state_fd, k->exit_name, text);
}

static void fail(const struct keeper_ct *k, const char *fmt, const char *arg) __attribute__((noreturn));
static void fail(const struct keeper_ct *k, const char *fmt, const char *arg)
{
	char msg[1024];
	snprintf(msg, sizeof msg, fmt, arg);
	write_line(k->report_fd, "error %s", msg);
	_exit(1);
}

/* The init's socket, checked to be the CT's PID 1's: we are in the CT's pid namespace, where the kernel
 * gives the listener's pid as the CT sees it. */
static int connect_init(const struct keeper_ct *k)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	/* The container process's credentials (SCM_CREDENTIALS) arrive only on a socket that asked. */
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) != 0)
		fail(k, "cannot make a socket in the CT: %s", strerror(errno));
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	strcpy(addr.sun_path, INIT_SOCKET);
	if (connect(s, (struct sockaddr *)&addr, sizeof addr) != 0)
		fail(k, "cannot reach the CT's init at " INIT_SOCKET ": %s", strerror(errno));
	struct ucred peer;
	socklen_t len = sizeof peer;
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0)
		fail(k, "cannot identify the CT's init: %s", strerror(errno));
	if (peer.pid != 1) {
		char pid[16];
		snprintf(pid, sizeof pid, "%d", (int)peer.pid);
		fail(k, "the process listening on " INIT_SOCKET " is pid %s in the CT, not its init", pid);
	}
	return s;
}

void keeper_in_ct(const struct keeper_ct *k)
{
	setsid();
	signal(SIGPIPE, SIG_IGN);
	/* The keeper's own death must not look like the container's: ignore what a terminal or a
	 * process-group kill would send. SIGKILL still ends it, and state then falls back to the
	 * container process itself. */
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);

	int conn = connect_init(k);
	int stdio[WIRE_MAX_FDS];
	for (int i = 0; i < k->nfds; i++)
		stdio[i] = i;
	if (wire_send(conn, FRAME_STDIO, "s", 1, 0, stdio, k->nfds) != 0)
		fail(k, "cannot pass stdio to the CT's init: %s", strerror(errno));
	if (k->nns > 0) {
		if (wire_send(conn, FRAME_NAMESPACES, "n", 1, 0, k->ns_fds, k->nns) != 0)
			fail(k, "cannot pass the namespaces to join to the CT's init: %s", strerror(errno));
		for (int i = 0; i < k->nns; i++)
			close(k->ns_fds[i]);
	}
	/* From here on the container process owns the caller's stdio. */
	for (int i = 3; i < k->nfds; i++)
		close(i);
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int i = 0; i < 3; i++)
		dup2(devnull, i);
	if (devnull > 2)
		close(devnull);

	static struct wire_frame frame;
	int child_ready = 0;
	for (;;) {
		int r = wire_recv(conn, &frame);
		if (r <= 0)
			break;
		switch (frame.tag) {
		case FRAME_CONSOLE:
			if (frame.nfds != 1)
				fail(k, "the CT's init sent a console without its pty%s", "");
			/* Only the launcher, on the host, may touch the engine's console socket: it takes the
			 * master from our fd table (pidfd_getfd) and says when it is done. */
			write_line(k->report_fd, "console %d %s", frame.fds[0], frame.payload);
			{
				char ack;
				while (read(k->ack_fd, &ack, 1) < 0 && errno == EINTR)
					;
			}
			close(frame.fds[0]);
			break;
		case FRAME_CHILD_READY: {
			if (!frame.has_creds)
				fail(k, "the container process reported without credentials%s", "");
			write_line(k->report_fd, "ready %d", (int)frame.creds.pid);
			close(k->report_fd);
			close(k->ack_fd);
			child_ready = 1;
			break;
		}
		case FRAME_ERROR:
			fail(k, "%s", frame.payload);
		case FRAME_STARTED:
			/* `pxoci start` waits for this when there are startContainer hooks: "ok" or their error. */
			if (k->start_result_name) {
				char text[sizeof frame.payload + 8];
				snprintf(text, sizeof text, "%s\n", frame.len ? frame.payload : "ok");
				write_state_file(k->state_fd, k->start_result_name, text);
			}
			break;
		case FRAME_EXIT: {
			uint32_t raw = wire_le32_get((const unsigned char *)frame.payload);
			write_exit(k, (int)raw);
			/* Our exit closes the connection, which the init waits for before it ends the CT. */
			exit_like((int)raw);
		}
		}
	}
	if (!child_ready)
		fail(k, "the CT's init went away before the container process was ready%s", "");
	/* The init vanished without a report: the CT was killed from outside (pct stop, lxc-stop -k),
	 * which takes the container process with it as SIGKILL would (and usually this keeper too, a
	 * process of the same pid namespace, before it gets here). */
	int killed = SIGKILL; /* raw wait status of death by SIGKILL */
	write_exit(k, killed);
	exit_like(killed);
}
