/* startContainer hooks: see init-hooks.h. */
#include "init-hooks.h"
#include "init-keeper.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A startContainer hook failed: `pxoci start` learns why through the keeper, the container's stderr
 * gets the same line, and the process never runs. */
static void start_hook_failed(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void start_hook_failed(const char *fmt, ...)
{
	char msg[3072];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "pxoci-init: %s\n", msg);
	if (keeper_sock >= 0)
		wire_send(keeper_sock, FRAME_STARTED, msg, (uint32_t)strlen(msg), 0, NULL, 0);
	_exit(127);
}

void run_start_hooks(struct process_spec *p)
{
	if (p->nhooks == 0 || !p->state_head || !p->state_tail)
		return;
	size_t len = strlen(p->state_head) + strlen(p->state_tail) + 24;
	char *state = malloc(len);
	if (!state)
		_exit(127);
	len = (size_t)snprintf(state, len, "%s%d%s", p->state_head, (int)getpid(), p->state_tail);
	signal(SIGPIPE, SIG_IGN); /* a hook need not read its stdin */
	for (int i = 0; i < p->nhooks; i++) {
		struct hook *h = &p->hooks[i];
		h->args[h->nargs] = NULL;
		h->env[h->nenv] = NULL;
		int in[2], out[2];
		if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
			start_hook_failed("startContainer hook #%d: pipe: %s", i, strerror(errno));
		pid_t child = fork();
		if (child < 0)
			start_hook_failed("startContainer hook #%d: fork: %s", i, strerror(errno));
		if (child == 0) {
			dup2(in[0], 0);
			dup2(out[1], 1);
			dup2(out[1], 2);
			signal(SIGPIPE, SIG_DFL);
			execve(h->path, h->args, h->nenv ? h->env : p->env);
			fprintf(stderr, "cannot run %s: %s", h->path, strerror(errno));
			_exit(127);
		}
		close(in[0]);
		close(out[1]);
		if (write(in[1], state, len) < 0 && errno != EPIPE) {
			/* the hook's own status says what went wrong */
		}
		close(in[1]);
		char output[2048];
		size_t got = 0;
		long long deadline = h->timeout > 0 ? now_ms() + (long long)h->timeout * 1000 : -1;
		int timed_out = 0;
		for (;;) {
			struct pollfd pfd = {out[0], POLLIN, 0};
			int wait = deadline < 0 ? -1 : (int)(deadline - now_ms());
			if (deadline >= 0 && wait <= 0) {
				timed_out = 1;
				kill(child, SIGKILL);
				break;
			}
			int r = poll(&pfd, 1, wait);
			if (r < 0 && errno == EINTR)
				continue;
			if (r == 0)
				continue;
			char buf[512];
			ssize_t n = read(out[0], buf, sizeof buf);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			size_t keep = (size_t)n < sizeof output - 1 - got ? (size_t)n : sizeof output - 1 - got;
			memcpy(output + got, buf, keep);
			got += keep;
		}
		close(out[0]);
		output[got] = '\0';
		int status;
		while (waitpid(child, &status, 0) < 0 && errno == EINTR)
			;
		if (timed_out)
			start_hook_failed("startContainer hook #%d (%s): ran past its timeout of %d s", i, h->path, h->timeout);
		if (WIFSIGNALED(status))
			start_hook_failed("startContainer hook #%d (%s): killed by signal %d, output: %s", i, h->path, WTERMSIG(status), output);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			start_hook_failed("startContainer hook #%d (%s): exit status %d, output: %s", i, h->path, WEXITSTATUS(status), output);
	}
	signal(SIGPIPE, SIG_DFL);
	free(state);
	if (keeper_sock >= 0 && wire_send(keeper_sock, FRAME_STARTED, NULL, 0, 0, NULL, 0) != 0)
		_exit(127);
}
