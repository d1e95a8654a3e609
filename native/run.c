/* pxoci-helper run [--detach] [--report-fd N] [--console-socket PATH [--winsize ROWS:COLS]]
 *                  [--nfds K] [--remove FILE] -- ARGV...
 *
 * Runs `pxoci exec`'s lxc-attach so that an engine can treat it like runc's exec process:
 * with --detach it forks once and the parent exits, so it is reparented to the engine's subreaper and
 * its pid (reported as "pid P" on the report fd) goes into --pid-file; either way it exits with the
 * exec'd command's status. With --console-socket, the command gets a new pty whose master is sent to
 * the socket (the console-socket protocol). --remove names the exec's process spec file, which goes
 * once the command has ended (whichever way it ends, and even when it could not be started).
 * --nfds K: the command gets fds 0 .. K-1 (stdio and the preserved ones) and no other: lxc-attach hands
 * every fd it inherits on into the CT, and the caller may hold fds Node never marked close-on-exec.
 */
#include "console-socket.h"
#include "exit-status.h"
#include "helper-commands.h"
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static const char *spec_file;

static void remove_spec_file(void)
{
	if (spec_file && unlink(spec_file) != 0 && errno != ENOENT)
		fprintf(stderr, "pxoci-helper run: cannot remove %s: %s\n", spec_file, strerror(errno));
}

/* A failure before the command runs: on the report fd when Node waits for one, else on stderr. */
static int fail_early(int report_fd, const char *what)
{
	char msg[512];
	int n = snprintf(msg, sizeof msg, "error %s: %s\n", what, strerror(errno));
	if (report_fd >= 0)
		write_all(report_fd, msg, (size_t)n);
	else
		write_all(2, msg + 6, (size_t)n - 6);
	remove_spec_file();
	return 1;
}

int cmd_run(int argc, char **argv)
{
	int detach = 0, report_fd = -1, nfds = 3, i = 1;
	const char *console_socket = NULL;
	struct winsize size = {0}, *sized = NULL;
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "--detach") == 0)
			detach = 1;
		else if (strcmp(argv[i], "--report-fd") == 0 && i + 1 < argc)
			report_fd = atoi(argv[++i]);
		else if (strcmp(argv[i], "--console-socket") == 0 && i + 1 < argc)
			console_socket = argv[++i];
		else if (strcmp(argv[i], "--winsize") == 0 && i + 1 < argc &&
			 sscanf(argv[++i], "%hu:%hu", &size.ws_row, &size.ws_col) == 2)
			sized = &size;
		else if (strcmp(argv[i], "--nfds") == 0 && i + 1 < argc && (nfds = atoi(argv[++i])) >= 3)
			;
		else if (strcmp(argv[i], "--remove") == 0 && i + 1 < argc)
			spec_file = argv[++i];
		else {
			fprintf(stderr, "run: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "usage: pxoci-helper run [--detach] [--report-fd N] [--console-socket S [--winsize R:C]] "
				"[--nfds K] [--remove FILE] -- ARGV...\n");
		return 2;
	}
	if (detach) {
		pid_t pid = fork();
		if (pid < 0)
			return fail_early(report_fd, "cannot fork");
		if (pid > 0)
			_exit(0);
		setsid();
	}
	int tty_slave = -1;
	if (console_socket) {
		tty_slave = open_console(console_socket, sized);
		if (tty_slave < 0)
			return fail_early(report_fd, "cannot set up the console");
	}
	pid_t child = fork();
	if (child < 0)
		return fail_early(report_fd, "cannot fork");
	if (child == 0) {
		if (tty_slave >= 0) {
			/* lxc-attach, finding a terminal on its stdin, makes a pty inside the CT for the process
			 * and relays between the two through /dev/tty: the pty must be its controlling terminal,
			 * or nothing the process writes comes out. */
			if (setsid() < 0 || ioctl(tty_slave, TIOCSCTTY, 0) != 0) {
				fprintf(stderr, "cannot make the console the controlling terminal: %s\n", strerror(errno));
				_exit(127);
			}
			/* lxc-attach turns output processing on for its side (\n becomes \r\n) on top of the
			 * CT's pty, which already did: every line would end \r\r\n. Locked off, the bytes the
			 * engine reads are the CT pty's own, as with runc's single pty. */
			struct termios mode, locked = {0};
			locked.c_oflag = OPOST;
			if (tcgetattr(tty_slave, &mode) == 0) {
				mode.c_oflag &= ~(tcflag_t)OPOST;
				tcsetattr(tty_slave, TCSANOW, &mode);
			}
			if (ioctl(tty_slave, TIOCSLCKTRMIOS, &locked) != 0) {
				fprintf(stderr, "cannot lock the console's output mode: %s\n", strerror(errno));
				_exit(127);
			}
			for (int fd = 0; fd < 3; fd++)
				dup2(tty_slave, fd);
			close(tty_slave);
		}
		if (syscall(SYS_close_range, (unsigned)nfds, ~0U, 0) != 0) {
			long max = sysconf(_SC_OPEN_MAX);
			for (long fd = nfds; fd < max; fd++)
				close((int)fd);
		}
		execv(argv[i], argv + i);
		fprintf(stderr, "cannot run %s: %s\n", argv[i], strerror(errno));
		_exit(127);
	}
	if (tty_slave >= 0)
		close(tty_slave);
	if (report_fd >= 0) {
		char line[64];
		int n = snprintf(line, sizeof line, "pid %d\n", (int)getpid());
		write_all(report_fd, line, (size_t)n);
		close(report_fd);
	}
	if (detach) {
		/* Only the command may hold the caller's stdio, or the caller waits for our EOF too. */
		int devnull = open("/dev/null", O_RDWR);
		for (int fd = 0; fd < 3; fd++)
			dup2(devnull, fd);
		if (devnull > 2)
			close(devnull);
	}
	int status;
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR) {
			remove_spec_file();
			_exit(1);
		}
	remove_spec_file();
	exit_like(status);
}
