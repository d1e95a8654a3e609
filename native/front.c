/* pxoci: the command engines run. It answers `pxoci state ID` (engines ask it many times a second)
 * and `pxoci --version` itself, because starting Node alone takes several times what runc needs for a
 * whole `state`, and hands every other call, unchanged, to Node (dist/pxoci.js next to this file).
 *
 * It does nothing the Node side does not decide: the command line table comes from src/cli/grammar.ts
 * and the container-id rule from src/runtime/container-id.ts (front-table.h, generated), the JSON from
 * state.view (rendered by src/runtime/state.ts), the status from procfacts.c, which the Node side loads
 * too. Whatever it is not certain of (an option it does not know, --debug, a missing or stale view, any
 * error) goes to Node, which gives the answer or the error. */
#include "io.h"
#include "procfacts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum front_kind { FRONT_VALUE, FRONT_SWITCH, FRONT_LEAVE };

struct front_option {
	const char *name;
	enum front_kind kind;
	const char *const *choices;
};

#include "front-table.h"

/* state.view is four renderings of one record: far below this unless annotations are huge, and
 * then Node answers. */
#define VIEW_MAX (4 << 20)

static void write_out(const char *text, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, text, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			exit(1);
		text += n;
		len -= (size_t)n;
	}
}

static void run_node(char **argv) __attribute__((noreturn));
static void run_node(char **argv)
{
	char self[PATH_MAX], script[PATH_MAX + 16];
	ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
	if (len <= 0) {
		fprintf(stderr, "pxoci: cannot find its own file: %s\n", strerror(errno));
		exit(1);
	}
	self[len] = '\0';
	char *slash = strrchr(self, '/');
	*slash = '\0';
	snprintf(script, sizeof script, "%s/pxoci.js", self);

	int argc = 0;
	while (argv[argc])
		argc++;
	char **node_argv = calloc((size_t)argc + 2, sizeof *node_argv);
	if (!node_argv)
		exit(1);
	/* Node marks every fd it inherits close-on-exec and fills the gaps with its own at start-up, so it
	 * can no longer tell which of 3, 4, ... the caller passed (--preserve-fds). Here they are still
	 * the caller's alone: the first that is closed (or ours, close-on-exec) ends them. */
	int end = 3;
	while (end < 1 << 20) {
		int flags = fcntl(end, F_GETFD);
		if (flags < 0 || (flags & FD_CLOEXEC))
			break;
		end++;
	}
	char end_text[16];
	snprintf(end_text, sizeof end_text, "%d", end);
	setenv("PXOCI_CALLER_FDS_END", end_text, 1);
	node_argv[0] = "node";
	node_argv[1] = script;
	for (int i = 1; i < argc; i++)
		node_argv[i + 1] = argv[i];
	/* As `#!/usr/bin/env node` would (with no PATH, glibc searches /bin:/usr/bin), then the node
	 * pxoci was built with. */
	execvp("node", node_argv);
	execv(FRONT_NODE_FALLBACK, node_argv);
	fprintf(stderr, "pxoci: cannot run node (%s): %s\n", FRONT_NODE_FALLBACK, strerror(errno));
	exit(1);
}

static const struct front_option *global_option(const char *name, size_t len)
{
	for (const struct front_option *o = front_globals; o->name; o++)
		if (strlen(o->name) == len && memcmp(o->name, name, len) == 0)
			return o;
	return NULL;
}

static int is_choice(const struct front_option *o, const char *value)
{
	if (!o->choices)
		return 1;
	for (const char *const *c = o->choices; *c; c++)
		if (strcmp(*c, value) == 0)
			return 1;
	return 0;
}

/* A container id that is certainly valid (and so a plain file name), by the rule front-table.h renders
 * from src/runtime/container-id.ts; Node judges every other. */
static int plain_id(const char *id)
{
	size_t len = strspn(id, FRONT_ID_BYTES);
	if (len == 0 || id[len] != '\0' || len > FRONT_ID_MAX_LENGTH)
		return 0;
	for (const char *const *refused = front_id_refused; *refused; refused++)
		if (strcmp(id, *refused) == 0)
			return 0;
	return 1;
}

/* Prints the state of root/id from its view; returns 0, or -1 when Node must answer. */
static int print_state(const char *root, const char *id)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	if (snprintf(dir, sizeof dir, "%s/%s", root, id) >= (int)sizeof dir)
		return -1;
	snprintf(path, sizeof path, "%s/state.view", dir);
	struct stat st;
	if (stat(path, &st) < 0 || st.st_size <= 0 || st.st_size > VIEW_MAX)
		return -1;
	/* One byte more than the view: a file replaced meanwhile by one of another size reads short or
	 * long, and Node answers. */
	size_t view_size = (size_t)st.st_size;
	char *view = malloc(view_size + 2);
	if (!view || read_small(path, view, view_size + 2) != (ssize_t)view_size) {
		free(view);
		return -1;
	}

	unsigned long long ino, size, mtime_ns;
	long pid;
	char pid_start[START_TIME_MAX];
	int started, header_len;
	if (sscanf(view, "pxoci-view 1 %llu %llu %llu %ld %23s %d\n%n", &ino, &size, &mtime_ns, &pid, pid_start,
		   &started, &header_len) != 6 ||
	    header_len <= 0 || view[header_len - 1] != '\n') {
		free(view);
		return -1;
	}
	/* The view must still describe state.json as it is: otherwise the record changed or broke. */
	snprintf(path, sizeof path, "%s/state.json", dir);
	struct stat js;
	if (stat(path, &js) < 0 || (unsigned long long)js.st_ino != ino || (unsigned long long)js.st_size != size ||
	    (unsigned long long)js.st_mtim.tv_sec * 1000000000ULL + (unsigned long long)js.st_mtim.tv_nsec != mtime_ns) {
		free(view);
		return -1;
	}
	snprintf(path, sizeof path, "%s/exit", dir);
	enum container_status status = container_status(path, pid, strcmp(pid_start, "-") == 0 ? "" : pid_start, started);

	const char *text = view + header_len, *end = view + view_size;
	for (int i = 0; i < (int)status && text < end; i++)
		text += strnlen(text, (size_t)(end - text)) + 1;
	if (text >= end) {
		free(view);
		return -1;
	}
	size_t len = strnlen(text, (size_t)(end - text));
	if (text + len >= end) {
		free(view);
		return -1;
	}
	write_out(text, len);
	free(view);
	return 0;
}

int main(int argc, char **argv)
{
	const char *root = FRONT_ROOT_DEFAULT;
	int seen[sizeof front_globals / sizeof *front_globals] = { 0 };
	int i = 1;
	/* Global options up to the command word, as src/cli/grammar.ts's parseFast reads them. */
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "--version") == 0 || strcmp(arg, "-v") == 0) {
			write_out(FRONT_VERSION_TEXT, strlen(FRONT_VERSION_TEXT));
			return 0;
		}
		if (strncmp(arg, "--", 2) != 0)
			run_node(argv);
		const char *name = arg + 2, *eq = strchr(name, '=');
		const struct front_option *o = global_option(name, eq ? (size_t)(eq - name) : strlen(name));
		if (!o || o->kind == FRONT_LEAVE || seen[o - front_globals]++)
			run_node(argv);
		if (o->kind == FRONT_SWITCH) {
			if (eq)
				run_node(argv);
			continue;
		}
		const char *value = eq ? eq + 1 : argv[i + 1];
		if (!value || *value == '\0' || (!eq && value[0] == '-') || !is_choice(o, value))
			run_node(argv);
		if (!eq)
			i++;
		if (strcmp(o->name, "root") == 0)
			root = value;
	}
	if (i + 2 == argc && strcmp(argv[i], "state") == 0 && argv[i + 1][0] != '-' && plain_id(argv[i + 1]) &&
	    print_state(root, argv[i + 1]) == 0)
		return 0;
	run_node(argv);
}
