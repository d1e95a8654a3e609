/* pxoci-helper reaper -- ARGV...
 *
 * Runs ARGV as a child subreaper would, the way an engine runs pxoci: conmon and the containerd shim
 * are subreapers, and a PVE node's PID 1 (systemd) reaps orphans at once. A container's keeper is
 * orphaned by design and, living in the CT's pid namespace, holds the CT's end until someone reaps it
 * (the kernel's pid-namespace teardown waits for it). Where the nearest reaper is slow — some VMs' PID 1
 * reaps every ~2 s — every stop would wait for that, so the test run and the speed report run under
 * this one, as pxoci runs on a node. Ends as ARGV ended; orphans still alive then go to the next reaper.
 */
#include "exit-status.h"
#include "helper-commands.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t command_pid;

static void pass_on(int sig)
{
	if (command_pid > 0)
		kill(command_pid, sig);
}

int cmd_reaper(int argc, char **argv)
{
	if (argc < 3 || strcmp(argv[1], "--") != 0) {
		fprintf(stderr, "usage: pxoci-helper reaper -- ARGV...\n");
		return 2;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
		fprintf(stderr, "pxoci-helper reaper: PR_SET_CHILD_SUBREAPER: %s\n", strerror(errno));
		return 1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "pxoci-helper reaper: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "pxoci-helper reaper: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	command_pid = pid;
	struct sigaction sa = {0};
	sa.sa_handler = pass_on;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	for (;;) {
		int status;
		pid_t reaped = waitpid(-1, &status, 0);
		if (reaped < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "pxoci-helper reaper: waitpid: %s\n", strerror(errno));
			return 1;
		}
		if (reaped == pid)
			exit_like(status);
	}
}
