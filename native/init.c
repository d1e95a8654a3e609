/* pxoci-init: PID 1 of a pxoci CT (lxc.init.cmd = /.pxoci/init).
 *
 * PVE starts the CT under systemd with its stdout discarded, so nothing the CT's init inherits is
 * the engine's. This init fetches the engine's stdio from pxoci's keeper on the host, forks the
 * container process, which waits on /.pxoci/start.fifo until `pxoci start` (the `created` state),
 * and reports that process's wait status back when it ends, so the keeper can exit with it.
 * It stays PID 1 to reap orphans and forward signals (lxc-stop / pct shutdown signal PID 1).
 *
 * /.pxoci/process holds what the process needs, as records "<tag>\0<value>\0" (see
 * src/core/initspec.ts for the tags).
 */
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define RUNTIME_DIR "/.pxoci"
#define MAX_ITEMS 4096
#define MAX_HOOKS 64
#define MAX_HOOK_ITEMS 256

struct hook {
	const char *path;
	char *args[MAX_HOOK_ITEMS + 1];
	int nargs;
	char *env[MAX_HOOK_ITEMS + 1];
	int nenv;
	int timeout;
};

struct rlimit_item {
	int resource;
	struct rlimit value;
};

struct process_spec {
	char *args[MAX_ITEMS + 1];
	int nargs;
	char *env[MAX_ITEMS + 1];
	int nenv;
	const char *cwd;
	uid_t uid;
	gid_t gid;
	gid_t groups[NGROUPS_MAX];
	int ngroups;
	int have_groups;
	mode_t umask_value;
	int have_umask;
	int terminal;
	struct winsize winsize; /* all zero: leave the pty's size alone */
	int no_new_privs;
	struct rlimit_item rlimits[64];
	int nrlimits;
	const char *oom_score_adj;
	/* process.capabilities as masks by capability number; only applied when given. */
	int have_caps;
	uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;
	const char *state_head, *state_tail;
	struct hook hooks[MAX_HOOKS];
	int nhooks;
};

static int sock = -1;

static void fail(const char *fmt, const char *arg)
{
	char msg[1024];
	snprintf(msg, sizeof msg, fmt, arg);
	if (sock >= 0)
		wire_send(sock, FRAME_ERROR, msg, (uint32_t)strlen(msg), 0, NULL, 0);
	else
		fprintf(stderr, "pxoci-init: %s\n", msg);
	_exit(127);
}

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
	{"RLIMIT_AS", RLIMIT_AS},	      {"RLIMIT_CORE", RLIMIT_CORE},
	{"RLIMIT_CPU", RLIMIT_CPU},	      {"RLIMIT_DATA", RLIMIT_DATA},
	{"RLIMIT_FSIZE", RLIMIT_FSIZE},	      {"RLIMIT_LOCKS", RLIMIT_LOCKS},
	{"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},   {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
	{"RLIMIT_NICE", RLIMIT_NICE},	      {"RLIMIT_NOFILE", RLIMIT_NOFILE},
	{"RLIMIT_NPROC", RLIMIT_NPROC},	      {"RLIMIT_RSS", RLIMIT_RSS},
	{"RLIMIT_RTPRIO", RLIMIT_RTPRIO},     {"RLIMIT_RTTIME", RLIMIT_RTTIME},
	{"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
};

static rlim_t parse_rlim(const char *s)
{
	if (strcmp(s, "unlimited") == 0)
		return RLIM_INFINITY;
	return (rlim_t)strtoull(s, NULL, 10);
}

static void parse_rlimit(struct process_spec *p, char *value)
{
	char *soft = strchr(value, ':');
	char *hard = soft ? strchr(soft + 1, ':') : NULL;
	if (!soft || !hard)
		fail("bad rlimit record %s", value);
	*soft++ = '\0';
	*hard++ = '\0';
	for (size_t i = 0; i < sizeof rlimit_names / sizeof rlimit_names[0]; i++) {
		if (strcmp(rlimit_names[i].name, value) == 0) {
			if (p->nrlimits >= 64)
				fail("too many rlimits%s", "");
			p->rlimits[p->nrlimits].resource = rlimit_names[i].resource;
			p->rlimits[p->nrlimits].value.rlim_cur = parse_rlim(soft);
			p->rlimits[p->nrlimits].value.rlim_max = parse_rlim(hard);
			p->nrlimits++;
			return;
		}
	}
	fail("unknown rlimit %s", value);
}

static void read_spec(struct process_spec *p, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail("cannot open the process spec: %s", strerror(errno));
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	memset(p, 0, sizeof *p);
	p->cwd = "/";
	size_t pos = 0;
	while (pos < len) {
		char *tag = buf + pos;
		char *tag_end = memchr(tag, '\0', len - pos);
		if (!tag_end || tag_end + 1 >= buf + len)
			fail("truncated process spec%s", "");
		char *value = tag_end + 1;
		char *value_end = memchr(value, '\0', (size_t)(buf + len - value));
		if (!value_end)
			fail("truncated process spec%s", "");
		pos = (size_t)(value_end + 1 - buf);
		if (strcmp(tag, "arg") == 0 && p->nargs < MAX_ITEMS)
			p->args[p->nargs++] = value;
		else if (strcmp(tag, "env") == 0 && p->nenv < MAX_ITEMS)
			p->env[p->nenv++] = value;
		else if (strcmp(tag, "cwd") == 0)
			p->cwd = value;
		else if (strcmp(tag, "uid") == 0)
			p->uid = (uid_t)strtoul(value, NULL, 10);
		else if (strcmp(tag, "gid") == 0)
			p->gid = (gid_t)strtoul(value, NULL, 10);
		else if (strcmp(tag, "group") == 0) {
			p->have_groups = 1;
			if (p->ngroups < NGROUPS_MAX)
				p->groups[p->ngroups++] = (gid_t)strtoul(value, NULL, 10);
		} else if (strcmp(tag, "umask") == 0) {
			p->have_umask = 1;
			p->umask_value = (mode_t)strtoul(value, NULL, 8);
		} else if (strcmp(tag, "terminal") == 0)
			p->terminal = strcmp(value, "1") == 0;
		else if (strcmp(tag, "nnp") == 0)
			p->no_new_privs = strcmp(value, "1") == 0;
		else if (strcmp(tag, "rlimit") == 0)
			parse_rlimit(p, value);
		else if (strcmp(tag, "oom") == 0)
			p->oom_score_adj = value;
		else if (strncmp(tag, "cap.", 4) == 0) {
			uint64_t mask = strtoull(value, NULL, 16);
			p->have_caps = 1;
			if (strcmp(tag, "cap.bounding") == 0)
				p->cap_bounding = mask;
			else if (strcmp(tag, "cap.effective") == 0)
				p->cap_effective = mask;
			else if (strcmp(tag, "cap.permitted") == 0)
				p->cap_permitted = mask;
			else if (strcmp(tag, "cap.inheritable") == 0)
				p->cap_inheritable = mask;
			else if (strcmp(tag, "cap.ambient") == 0)
				p->cap_ambient = mask;
		}
		else if (strcmp(tag, "statehead") == 0)
			p->state_head = value;
		else if (strcmp(tag, "statetail") == 0)
			p->state_tail = value;
		else if (strcmp(tag, "hook") == 0) {
			if (p->nhooks >= MAX_HOOKS)
				fail("more than %s startContainer hooks", "64");
			p->hooks[p->nhooks++].path = value;
		} else if (strncmp(tag, "hook", 4) == 0 && p->nhooks > 0) {
			struct hook *h = &p->hooks[p->nhooks - 1];
			if (strcmp(tag, "hookarg") == 0 && h->nargs < MAX_HOOK_ITEMS)
				h->args[h->nargs++] = value;
			else if (strcmp(tag, "hookenv") == 0 && h->nenv < MAX_HOOK_ITEMS)
				h->env[h->nenv++] = value;
			else if (strcmp(tag, "hooktimeout") == 0)
				h->timeout = atoi(value);
		}
		else if (strcmp(tag, "winsize") == 0 &&
			 sscanf(value, "%hu:%hu", &p->winsize.ws_row, &p->winsize.ws_col) != 2)
			fail("bad winsize record %s", value);
	}
	p->args[p->nargs] = NULL;
	p->env[p->nenv] = NULL;
	if (p->nargs == 0)
		fail("process.args must not be empty%s", "");
}

static const char *env_lookup(struct process_spec *p, const char *name)
{
	size_t n = strlen(name);
	for (int i = 0; i < p->nenv; i++)
		if (strncmp(p->env[i], name, n) == 0 && p->env[i][n] == '=')
			return p->env[i] + n + 1;
	return NULL;
}

/* Like runc: resolve args[0] against the process's own PATH before `created`, so a missing
 * executable fails `create` (engines map "no such file or directory" to exit 127). */
static char *resolve_executable(struct process_spec *p)
{
	static char found[PATH_MAX];
	const char *name = p->args[0];
	struct stat st;
	if (strchr(name, '/')) {
		if (stat(name, &st) != 0)
			fail("exec: \"%s\": stat: no such file or directory", name);
		return (char *)name;
	}
	const char *path = env_lookup(p, "PATH");
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		const char *end = strchr(path, ':');
		size_t dirlen = end ? (size_t)(end - path) : strlen(path);
		snprintf(found, sizeof found, "%.*s/%s", (int)dirlen, dirlen ? path : ".", name);
		if (stat(found, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
			return found;
		path += dirlen;
		if (*path == ':')
			path++;
	}
	fail("exec: \"%s\": executable file not found in $PATH", name);
	return NULL;
}

static void install_stdio(int *fds, int nfds)
{
	/* Lift the received fds out of the way before laying them onto 0..n-1. */
	int lifted[WIRE_MAX_FDS];
	for (int i = 0; i < nfds; i++) {
		lifted[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, nfds + 3);
		if (lifted[i] < 0)
			fail("dup: %s", strerror(errno));
		close(fds[i]);
	}
	for (int i = 0; i < nfds; i++) {
		if (dup2(lifted[i], i) < 0)
			fail("dup2: %s", strerror(errno));
		close(lifted[i]);
	}
}

/* While still root: limits only root may raise. */
static void apply_limits(struct process_spec *p)
{
	if (p->oom_score_adj) {
		int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, p->oom_score_adj, strlen(p->oom_score_adj)) < 0)
			fail("cannot set oom_score_adj: %s", strerror(errno));
		close(fd);
	}
	for (int i = 0; i < p->nrlimits; i++)
		if (setrlimit(p->rlimits[i].resource, &p->rlimits[i].value) != 0)
			fail("setrlimit: %s", strerror(errno));
}

static void become_process(struct process_spec *p, char *exe);

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
	if (sock >= 0)
		wire_send(sock, FRAME_STARTED, msg, (uint32_t)strlen(msg), 0, NULL, 0);
	_exit(127);
}

/* OCI startContainer hooks: in the container, as the container process is about to exec, each with
 * the state on stdin. A hook without env gets the process's env (as runc does). The first failure
 * ends the container process: it never runs. */
static void run_start_hooks(struct process_spec *p)
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
	if (sock >= 0 && wire_send(sock, FRAME_STARTED, NULL, 0, 0, NULL, 0) != 0)
		_exit(127);
}

static void child_main(struct process_spec *p, int *fds, int nfds)
{
	sigset_t none;
	sigemptyset(&none);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);

	if (setsid() < 0)
		fail("setsid: %s", strerror(errno));
	install_stdio(fds, nfds);
	if (p->terminal && ioctl(0, TIOCSCTTY, 0) < 0)
		fail("cannot make the console the controlling terminal: %s", strerror(errno));

	char *exe = resolve_executable(p);
	if (chdir(p->cwd) != 0)
		fail("chdir to cwd (\"%s\") set in config.json failed: no such file or directory", p->cwd);
	apply_limits(p);

	if (wire_send(sock, FRAME_CHILD_READY, NULL, 0, 1, NULL, 0) != 0)
		_exit(127);

	/* The `created` state: block here until `pxoci start` opens the fifo for writing. */
	int fifo;
	do
		fifo = open(RUNTIME_DIR "/start.fifo", O_RDONLY | O_CLOEXEC);
	while (fifo < 0 && errno == EINTR);
	if (fifo < 0) {
		fprintf(stderr, "pxoci-init: open start fifo: %s\n", strerror(errno));
		_exit(127);
	}
	char go;
	ssize_t r;
	do
		r = read(fifo, &go, 1);
	while (r < 0 && errno == EINTR);
	close(fifo);
	if (r != 1)
		_exit(127); /* the fifo was closed without a start: nothing to run */
	/* The connection (close-on-exec) stays open for the startContainer hooks' report. */

	become_process(p, exe);
}

/* While still root, before the uid changes: narrow the bounding set to the process's own (lxc.cap.keep
 * already did for the container process; an exec'd one may ask for less), and keep the permitted set
 * across setuid so the sets asked for can be laid down afterwards. */
static void prepare_capabilities(struct process_spec *p)
{
	if (!p->have_caps)
		return;
	for (int cap = 0; cap < 64; cap++) {
		if (p->cap_bounding & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1)
			continue; /* unknown to this kernel, or already out of the bounding set */
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
			fprintf(stderr, "pxoci-init: cannot drop capability %d from the bounding set: %s\n", cap, strerror(errno));
			_exit(127);
		}
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
		fprintf(stderr, "pxoci-init: keepcaps: %s\n", strerror(errno));
		_exit(127);
	}
}

/* After the uid change (which clears the effective set): the sets exactly as asked, then ambient. */
static void apply_capabilities(struct process_spec *p)
{
	if (!p->have_caps)
		return;
	struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2];
	for (int i = 0; i < 2; i++) {
		data[i].effective = (uint32_t)(p->cap_effective >> (32 * i));
		data[i].permitted = (uint32_t)(p->cap_permitted >> (32 * i));
		data[i].inheritable = (uint32_t)(p->cap_inheritable >> (32 * i));
	}
	if (syscall(SYS_capset, &header, data) != 0) {
		fprintf(stderr, "pxoci-init: capset: %s\n", strerror(errno));
		_exit(127);
	}
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) {
		fprintf(stderr, "pxoci-init: keepcaps: %s\n", strerror(errno));
		_exit(127);
	}
	for (int cap = 0; cap < 64; cap++) {
		if (!(p->cap_ambient & (1ULL << cap)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
			fprintf(stderr, "pxoci-init: cannot raise ambient capability %d (it must also be permitted and inheritable): %s\n",
				cap, strerror(errno));
			_exit(127);
		}
	}
}

/* Everything after the start signal: who the process runs as, where, and then exec. */
static void become_process(struct process_spec *p, char *exe)
{
	if (p->have_umask)
		umask(p->umask_value);
	prepare_capabilities(p);
	if (setgroups((size_t)p->ngroups, p->groups) != 0 && p->have_groups) {
		fprintf(stderr, "pxoci-init: setgroups: %s\n", strerror(errno));
		_exit(127);
	}
	if (setgid(p->gid) != 0 || setuid(p->uid) != 0) {
		fprintf(stderr, "pxoci-init: cannot become %u:%u: %s\n", (unsigned)p->uid, (unsigned)p->gid,
			strerror(errno));
		_exit(127);
	}
	apply_capabilities(p);
	if (chdir(p->cwd) != 0) {
		fprintf(stderr, "pxoci-init: chdir %s: %s\n", p->cwd, strerror(errno));
		_exit(127);
	}
	if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		fprintf(stderr, "pxoci-init: no_new_privs: %s\n", strerror(errno));
		_exit(127);
	}
	run_start_hooks(p);
	execve(exe, p->args, p->env);
	int err = errno;
	fprintf(stderr, "pxoci-init: exec %s: %s\n", p->args[0], strerror(err));
	_exit(err == EACCES || err == ENOEXEC ? 126 : 127);
}

/* `pxoci exec` runs `lxc-attach ... -- /.pxoci/init exec <spec>`: lxc-attach enters the CT, this applies
 * the exec'd process's spec exactly as for the container process (cwd, groups, rlimits, ...). */
static int exec_main(const char *spec_path)
{
	static struct process_spec spec;
	read_spec(&spec, spec_path);
	char *exe = resolve_executable(&spec);
	if (spec.terminal) {
		setsid();
		ioctl(0, TIOCSCTTY, 0);
	}
	apply_limits(&spec);
	become_process(&spec, exe);
	return 127;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "exec") == 0)
		return exec_main(argv[2]);
	static struct process_spec spec;
	read_spec(&spec, RUNTIME_DIR "/process");

	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	strncpy(addr.sun_path, RUNTIME_DIR "/init.sock", sizeof addr.sun_path - 1);
	if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof addr) != 0) {
		int err = errno;
		sock = -1;
		fail("cannot reach the pxoci keeper: %s", strerror(err));
	}
	if (wire_send(sock, FRAME_INIT_HELLO, NULL, 0, 1, NULL, 0) != 0)
		_exit(127);
	static struct wire_frame frame;
	if (wire_recv(sock, &frame) != 1 || frame.tag != FRAME_STDIO || frame.nfds < 3)
		fail("the pxoci keeper sent no stdio%s", "");

	if (spec.terminal) {
		/* The pty comes from the CT's own devpts, as with runc, so ttyname() works inside; its master
		 * goes to the engine's console socket through the keeper. */
		int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		char *name = master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0 ? ptsname(master) : NULL;
		int slave = name ? open(name, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
		if (slave < 0)
			fail("cannot allocate a pty in the CT: %s", strerror(errno));
		if ((spec.winsize.ws_row || spec.winsize.ws_col) && ioctl(slave, TIOCSWINSZ, &spec.winsize) != 0)
			fail("cannot size the pty: %s", strerror(errno));
		if (wire_send(sock, FRAME_CONSOLE, name, (uint32_t)strlen(name), 0, &master, 1) != 0)
			fail("cannot pass the console: %s", strerror(errno));
		close(master);
		for (int i = 0; i < 3; i++) {
			close(frame.fds[i]);
			frame.fds[i] = i == 0 ? slave : fcntl(slave, F_DUPFD_CLOEXEC, 0);
		}
	}

	/* Every signal is handled synchronously below: PID 1 must not die of one it did not expect. */
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);

	pid_t child = fork();
	if (child < 0)
		fail("fork: %s", strerror(errno));
	if (child == 0)
		child_main(&spec, frame.fds, frame.nfds);

	/* Only the child may hold the caller's stdio, or the caller never sees EOF. */
	for (int i = 0; i < frame.nfds; i++)
		close(frame.fds[i]);
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
	}

	for (;;) {
		siginfo_t info;
		int sig = sigwaitinfo(&all, &info);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(child, sig);
			continue;
		}
		int status;
		pid_t pid;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid != child)
				continue;
			unsigned char payload[4];
			wire_le32_put(payload, (uint32_t)status);
			wire_send(sock, FRAME_EXIT, payload, 4, 0, NULL, 0);
			/* Leaving PID 1 ends the CT: the kernel kills what is left, as with runc. */
			_exit(0);
		}
	}
}
