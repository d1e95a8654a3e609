/* Test harness that plays conmon / the containerd shim: a child subreaper that runs
 * `pxoci create --pid-file P ...`, then reaps the process named in P and reports how it ended,
 * the way a shell would show it (N, or 128+SIG).
 *   subreaper STATUS-FILE PID-FILE CMD ARGS...
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void put(const char *file, const char *text)
{
	FILE *f = fopen(file, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	pid_t create = fork();
	if (create == 0) {
		execv(argv[3], argv + 3);
		_exit(127);
	}
	int status;
	while (waitpid(create, &status, 0) < 0 && errno == EINTR)
		;
	char text[64];
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(text, sizeof text, "create-failed %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		put(argv[1], text);
		return 1;
	}
	FILE *pf = fopen(argv[2], "r");
	long pid = 0;
	if (!pf || fscanf(pf, "%ld", &pid) != 1) {
		put(argv[1], "no-pid-file\n");
		return 1;
	}
	fclose(pf);
	for (;;) {
		pid_t got = waitpid(-1, &status, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			put(argv[1], "not-reaped\n");
			return 1;
		}
		if (got == (pid_t)pid)
			break;
	}
	snprintf(text, sizeof text, "%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	put(argv[1], text);
	return 0;
}
