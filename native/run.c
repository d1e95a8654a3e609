/* pxoci-helper run [--detach] [--report-fd N] [--console-socket PATH] -- ARGV...
 *
 * Runs `pxoci exec`'s lxc-attach so that an engine can treat it like runc's exec process:
 * with --detach it forks once and the parent exits, so it is reparented to the engine's subreaper and
 * its pid (reported as "pid P" on the report fd) goes into --pid-file; either way it exits with the
 * exec'd command's status. With --console-socket, the command gets a new pty whose master is sent to
 * the socket (the console-socket protocol).
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
#include <sys/wait.h>
#include <unistd.h>

int cmd_run(int argc, char **argv)
{
	int detach = 0, report_fd = -1, i = 1;
	const char *console_socket = NULL;
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
		else {
			fprintf(stderr, "run: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "usage: pxoci-helper run [--detach] [--report-fd N] [--console-socket S] -- ARGV...\n");
		return 2;
	}
	if (detach) {
		pid_t pid = fork();
		if (pid < 0)
			return 1;
		if (pid > 0)
			_exit(0);
		setsid();
	}
	int tty_slave = -1;
	if (console_socket) {
		tty_slave = open_console(console_socket);
		if (tty_slave < 0) {
			char msg[512];
			int n = snprintf(msg, sizeof msg, "error cannot set up the console: %s\n", strerror(errno));
			if (report_fd >= 0)
				write_all(report_fd, msg, (size_t)n);
			else
				write_all(2, msg + 6, (size_t)n - 6);
			return 1;
		}
	}
	pid_t child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		if (tty_slave >= 0) {
			setsid();
			for (int fd = 0; fd < 3; fd++)
				dup2(tty_slave, fd);
			close(tty_slave);
		}
		if (report_fd >= 0)
			close(report_fd);
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
	exit_like_child(child);
}
