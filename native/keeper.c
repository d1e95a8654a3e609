/* pxoci-helper keeper: the host-side half of a pxoci container (see docs/DESIGN.md).
 *
 *   pxoci-helper keeper --ct-dir DIR --exit-file FILE --report-fd N --nfds K
 *                       [--console-socket PATH] [--timeout SECONDS] [--start-result FILE]
 *                       [--sysctl KEY=VALUE]... [--owner UID:GID]
 *
 * It forks once and the parent exits, so the keeper is reparented to the caller's child subreaper
 * (conmon, the containerd shim): its pid is the one written to --pid-file, the only process such a
 * caller can reap. It hands fds 0..K-1 to the CT's init over DIR/init.sock and, when the process has
 * a terminal, forwards the master of the pty the init made in the CT to the console socket; then it
 * lives until the container process ends and exits with exactly its status, re-raising the same
 * signal on death by signal.
 *
 * Progress goes to the report fd as lines: "pid P", then "ready INITPID CHILDPID" or "error MSG".
 */
#include "console-socket.h"
#include "exit-status.h"
#include "helper-commands.h"
#include "io.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static int report_fd = -1;

static void report(const char *fmt, ...)
{
	if (report_fd < 0)
		return;
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof line - 2)
		n = (int)sizeof line - 2;
	/* One line per message: a newline inside a message would split it. */
	for (int i = 0; i < n; i++)
		if (line[i] == '\n')
			line[i] = ' ';
	line[n++] = '\n';
	write_all(report_fd, line, (size_t)n);
}

static void close_report(void)
{
	if (report_fd >= 0)
		close(report_fd);
	report_fd = -1;
}

static void write_file_atomic(const char *path, const char *text)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	write_all(fd, text, strlen(text));
	fsync(fd);
	close(fd);
	rename(tmp, path);
}

static void write_exit_file(const char *path, int status)
{
	char text[32];
	snprintf(text, sizeof text, "%d\n", status);
	write_file_atomic(path, text);
}

/* /proc/sys/net and the IPC keys of /proc/sys/kernel show the namespaces of whoever writes them: a
 * child that joins the CT's netns and ipcns sets the CT's values (the CT's own capabilities may not
 * allow it, and LXC's lxc.sysctl.* fails once proc:mixed has made /proc/sys read-only). */
static int apply_sysctls(pid_t init_pid, const char **sysctls, int n)
{
	pid_t child = fork();
	if (child < 0)
		return -1;
	if (child == 0) {
		static const struct {
			const char *name;
			int type;
		} namespaces[] = { { "net", CLONE_NEWNET }, { "ipc", CLONE_NEWIPC } };
		for (size_t k = 0; k < sizeof namespaces / sizeof namespaces[0]; k++) {
			char ns[64];
			snprintf(ns, sizeof ns, "/proc/%d/ns/%s", (int)init_pid, namespaces[k].name);
			int fd = open(ns, O_RDONLY | O_CLOEXEC);
			if (fd < 0 || setns(fd, namespaces[k].type) != 0) {
				report("error cannot enter the CT's %s namespace: %s", namespaces[k].name, strerror(errno));
				_exit(1);
			}
			close(fd);
		}
		for (int i = 0; i < n; i++) {
			const char *eq = strchr(sysctls[i], '=');
			if (!eq)
				_exit(1);
			char path[512];
			int len = snprintf(path, sizeof path, "/proc/sys/%.*s", (int)(eq - sysctls[i]), sysctls[i]);
			for (int j = 10; j < len; j++)
				if (path[j] == '.')
					path[j] = '/';
			int s = open(path, O_WRONLY | O_CLOEXEC);
			if (s < 0 || write(s, eq + 1, strlen(eq + 1)) < 0) {
				report("error linux.sysctl[\"%.*s\"]: %s", (int)(eq - sysctls[i]), sysctls[i], strerror(errno));
				_exit(1);
			}
			close(s);
		}
		_exit(0);
	}
	int status;
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int cmd_keeper(int argc, char **argv)
{
	const char *ct_dir = NULL, *exit_file = NULL, *console_socket = NULL, *start_result = NULL;
	int nfds = 3;
	double timeout = 30;
	const char *sysctls[64];
	int nsysctls = 0;
	/* The host ids of a user-namespaced CT's root, which must open the socket and the fifo. */
	long owner_uid = -1, owner_gid = -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) {
			fprintf(stderr, "keeper: %s needs a value\n", a);
			return 2;
		}
		if (strcmp(a, "--ct-dir") == 0)
			ct_dir = v;
		else if (strcmp(a, "--exit-file") == 0)
			exit_file = v;
		else if (strcmp(a, "--report-fd") == 0)
			report_fd = atoi(v);
		else if (strcmp(a, "--nfds") == 0)
			nfds = atoi(v);
		else if (strcmp(a, "--console-socket") == 0)
			console_socket = v;
		else if (strcmp(a, "--timeout") == 0)
			timeout = atof(v);
		else if (strcmp(a, "--start-result") == 0)
			start_result = v;
		else if (strcmp(a, "--sysctl") == 0 && nsysctls < 64)
			sysctls[nsysctls++] = v;
		else if (strcmp(a, "--owner") == 0 && sscanf(v, "%ld:%ld", &owner_uid, &owner_gid) == 2)
			;
		else {
			fprintf(stderr, "keeper: unknown option %s\n", a);
			return 2;
		}
		i++;
	}
	if (!ct_dir || !exit_file || report_fd < 0 || nfds < 3 || nfds > WIRE_MAX_FDS) {
		fprintf(stderr, "keeper: --ct-dir, --exit-file and --report-fd are required\n");
		return 2;
	}

	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "keeper: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid > 0)
		_exit(0);
	setsid();
	signal(SIGPIPE, SIG_IGN);
	/* The keeper's own death must not look like the container's: ignore what a terminal or a
	 * process-group kill would send. SIGKILL still ends it, and state then falls back to the
	 * container process itself. */
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	report("pid %d", (int)getpid());

	/* Engine ids are 64 hex chars: an absolute socket path can exceed sun_path's 108 bytes. */
	if (chdir(ct_dir) != 0) {
		report("error cannot enter %s: %s", ct_dir, strerror(errno));
		_exit(1);
	}
	const char *sock_path = "init.sock", *fifo_path = "start.fifo";
	if (mkfifo(fifo_path, 0600) != 0 && errno != EEXIST) {
		report("error cannot create %s: %s", fifo_path, strerror(errno));
		_exit(1);
	}
	int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	strcpy(addr.sun_path, sock_path);
	unlink(sock_path);
	int one = 1;
	if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 ||
	    setsockopt(listener, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) != 0 || listen(listener, 1) != 0) {
		report("error cannot listen on %s: %s", sock_path, strerror(errno));
		_exit(1);
	}
	if (owner_uid >= 0 && (chown(sock_path, (uid_t)owner_uid, (gid_t)owner_gid) != 0 ||
			       chown(fifo_path, (uid_t)owner_uid, (gid_t)owner_gid) != 0)) {
		report("error cannot hand %s and %s to the CT's root: %s", sock_path, fifo_path, strerror(errno));
		_exit(1);
	}

	int stdio[WIRE_MAX_FDS];
	for (int i = 0; i < nfds; i++)
		stdio[i] = i;

	struct pollfd pfd = {listener, POLLIN, 0};
	int ready = poll(&pfd, 1, (int)(timeout * 1000));
	if (ready <= 0) {
		report("error the CT's init did not connect within %.0f s", timeout);
		unlink(sock_path);
		_exit(1);
	}
	int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	close(listener);
	unlink(sock_path);
	if (conn < 0) {
		report("error accept: %s", strerror(errno));
		_exit(1);
	}
	setsockopt(conn, SOL_SOCKET, SO_PASSCRED, &one, sizeof one);

	static struct wire_frame frame;
	pid_t init_pid = 0, child_pid = 0;
	int sent_stdio = 0;
	for (;;) {
		int r = wire_recv(conn, &frame);
		if (r <= 0)
			break;
		switch (frame.tag) {
		case FRAME_INIT_HELLO:
			init_pid = frame.has_creds ? frame.creds.pid : 0;
			if (nsysctls > 0 && apply_sysctls(init_pid, sysctls, nsysctls) != 0)
				_exit(1);
			if (wire_send(conn, FRAME_STDIO, "s", 1, 0, stdio, nfds) != 0) {
				report("error cannot pass stdio to the CT's init: %s", strerror(errno));
				_exit(1);
			}
			sent_stdio = 1;
			/* From here on the container process owns the caller's stdio. */
			for (int i = 0; i < nfds; i++)
				if (stdio[i] > 2)
					close(stdio[i]);
			{
				int devnull = open("/dev/null", O_RDWR);
				for (int i = 0; i < 3; i++)
					dup2(devnull, i);
				if (devnull > 2)
					close(devnull);
			}
			break;
		case FRAME_CONSOLE:
			if (!console_socket || frame.nfds != 1) {
				report("error the process wants a terminal but no --console-socket was given");
				_exit(1);
			}
			if (send_console(console_socket, frame.fds[0], frame.payload) != 0) {
				report("error cannot send the console to %s: %s", console_socket, strerror(errno));
				_exit(1);
			}
			close(frame.fds[0]);
			break;
		case FRAME_CHILD_READY:
			child_pid = frame.has_creds ? frame.creds.pid : 0;
			report("ready %d %d", (int)init_pid, (int)child_pid);
			close_report();
			break;
		case FRAME_ERROR:
			report("error %s", frame.payload);
			_exit(1);
		case FRAME_STARTED:
			/* `pxoci start` waits for this when there are startContainer hooks: "ok" or their error. */
			if (start_result) {
				char text[sizeof frame.payload + 8];
				snprintf(text, sizeof text, "%s\n", frame.len ? frame.payload : "ok");
				write_file_atomic(start_result, text);
			}
			break;
		case FRAME_EXIT: {
			uint32_t raw = wire_le32_get((const unsigned char *)frame.payload);
			write_exit_file(exit_file, (int)raw);
			exit_like((int)raw);
		}
		}
	}
	if (!child_pid) {
		report("error the CT's init went away before the container process was ready%s",
		       sent_stdio ? "" : " (no stdio handed over)");
		_exit(1);
	}
	/* The init vanished without a report: the CT was killed from outside (pct stop, lxc-stop -k),
	 * which takes the container process with it as SIGKILL would. */
	int killed = SIGKILL; /* raw wait status of death by SIGKILL */
	write_exit_file(exit_file, killed);
	exit_like(killed);
	return 0;
}
