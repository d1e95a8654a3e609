/* The init's connection to the keeper: see init-keeper.h. */
#include "init-keeper.h"
#include "wire.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define RUN_DIR "/.pxoci/run"
#define SOCKET_PATH RUN_DIR "/init.sock"
/* Bound here, renamed to SOCKET_PATH once listening: the host waits for that name to appear. */
#define SOCKET_BINDING RUN_DIR "/.init.sock.new"
#define CLOSE_WAIT_MS 5000

int keeper_sock = -1;

void fail(const char *fmt, const char *arg)
{
	char msg[1024];
	snprintf(msg, sizeof msg, fmt, arg);
	if (keeper_sock >= 0)
		wire_send(keeper_sock, FRAME_ERROR, msg, (uint32_t)strlen(msg), 0, NULL, 0);
	else
		fprintf(stderr, "pxoci-init: %s\n", msg);
	_exit(127);
}

/* The keeper is joined into the CT from the host: in our pid namespace (the kernel gives its pid as we
 * see it; 0 for a process outside), not us, and its parent outside it (PPid 0 here). */
static int is_attached_peer(pid_t pid)
{
	if (pid <= 1)
		return 0;
	char path[64], text[4096];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	return strstr(text, "\nPPid:\t0\n") != NULL;
}

void accept_keeper(void)
{
	mode_t umask_before = umask(077);
	int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	strcpy(addr.sun_path, SOCKET_BINDING);
	unlink(SOCKET_BINDING);
	if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(listener, 1) != 0 ||
	    rename(SOCKET_BINDING, SOCKET_PATH) != 0)
		fail("cannot listen on " SOCKET_PATH ": %s", strerror(errno));
	umask(umask_before); /* the container process inherits it */
	for (;;) {
		int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fail("accept on " SOCKET_PATH ": %s", strerror(errno));
		}
		struct ucred peer;
		socklen_t len = sizeof peer;
		if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &peer, &len) == 0 && is_attached_peer(peer.pid)) {
			keeper_sock = conn;
			break;
		}
		close(conn);
	}
	close(listener);
	unlink(SOCKET_PATH);
}

void await_keeper_close(void)
{
	if (keeper_sock < 0)
		return;
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		long waited = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (waited >= CLOSE_WAIT_MS)
			return;
		struct pollfd p = {keeper_sock, POLLIN, 0};
		if (poll(&p, 1, (int)(CLOSE_WAIT_MS - waited)) <= 0)
			continue;
		char buf[64];
		ssize_t n = read(keeper_sock, buf, sizeof buf);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return;
	}
}
