/* pxoci-helper keeper: puts a container's keeper into its CT (see docs/DESIGN.md, "The keeper").
 *
 *   pxoci-helper keeper --ct-dir DIR --report-fd N --nfds K --vmid V --lxcpath P --lxc-info PATH
 *                       --exit-file NAME [--start-result NAME] [--console-socket PATH]
 *                       [--timeout SECONDS] [--started-fd N] [--sysctl KEY=VALUE]... [--owner UID:GID]
 *                       [--join TYPE:FIELD:PATH]...
 *
 * This process, the launcher, runs on the host as a child of `pxoci create`, holding the caller's
 * fds 0..K-1. DIR is <state>/<id>/ct; NAMEs are files of <state>/<id>. It makes ct/start.fifo and
 * ct/run/ (bind-mounted read-write at /.pxoci/run) for the CT's root (UID:GID), waits for the CT's
 * init to listen on run/init.sock, finds the init's host pid with lxc-info and proves it is the init
 * of this container's CT, sets the namespaced sysctls, then forks the bridge: it joins the init's
 * cgroups, namespaces and AppArmor label (ct-join.c) and forks the keeper (keeper-ct.c) in there,
 * then exits at once, so the keeper is reparented to the caller's child subreaper (conmon, the
 * containerd shim). The keeper's host pid is what --pid-file gets. Once the container process is
 * ready, the launcher unmounts the read-write /.pxoci/run in the CT.
 *
 * Report lines to the report fd: "pid P" (this launcher, set up), then "ready INIT PROCESS KEEPER"
 * (host pids) or "error MSG". The launcher exits after either; the keeper lives on.
 */
#include "console-socket.h"
#include "ct-join.h"
#include "helper-commands.h"
#include "io.h"
#include "keeper-ct.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct launcher {
	const char *ct_dir, *exit_name, *start_result_name, *console_socket;
	const char *lxcpath, *lxc_info, *vmid;
	int nfds;
	double timeout;
	/* Where create says that pct start has returned (a byte; EOF if create gives up): the timeout
	 * counts from there, since a loaded node may take long to start the CT but not its init after. */
	int started_fd;
	const char *sysctls[64];
	int nsysctls;
	/* --join: the namespace type (CLONE_NEW*), the field that asked, its path on the host. */
	struct {
		int type;
		const char *name, *field, *path;
	} joins[8];
	int njoins;
	/* The host ids of the CT's root: it must open the socket's folder and the fifo. */
	uid_t owner_uid;
	gid_t owner_gid;
};

static int report_fd = -1;

static void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	write_line(report_fd, "error %s", msg);
	_exit(1);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int remaining_ms(long long deadline)
{
	long long left = deadline - now_ms();
	return left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* Waits for the init to listen: it binds init.sock under another name and renames it into place once
 * listening, so the name appearing means connect() will be accepted. Until create says the CT has
 * started (o->started_fd), there is no deadline; from then on, the timeout. Returns the deadline. */
static long long wait_for_socket(struct launcher *o, int run_fd, const char *run_path)
{
	long long deadline = o->started_fd < 0 ? now_ms() + (long long)(o->timeout * 1000) : -1;
	int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	char watched[64];
	snprintf(watched, sizeof watched, "/proc/self/fd/%d", run_fd);
	if (in < 0 || inotify_add_watch(in, watched, IN_CREATE | IN_MOVED_TO) < 0)
		fail("cannot watch %s: %s", run_path, strerror(errno));
	for (;;) {
		struct stat st;
		if (fstatat(run_fd, "init.sock", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISSOCK(st.st_mode))
			break;
		struct pollfd p[2] = {{in, POLLIN, 0}, {o->started_fd, POLLIN, 0}};
		int left = deadline < 0 ? -1 : remaining_ms(deadline);
		if (left == 0 || poll(p, deadline < 0 ? 2 : 1, left) == 0)
			fail("the CT's init did not listen on %s/init.sock within %.0f s of the CT's start", run_path, o->timeout);
		if (deadline < 0 && p[1].revents) {
			char byte;
			if (read(o->started_fd, &byte, 1) != 1)
				fail("create ended before the CT started");
			close(o->started_fd);
			o->started_fd = -1;
			deadline = now_ms() + (long long)(o->timeout * 1000);
		}
		char events[4096];
		while (read(in, events, sizeof events) > 0)
			;
	}
	close(in);
	if (o->started_fd >= 0) {
		close(o->started_fd);
		o->started_fd = -1;
	}
	return deadline < 0 ? now_ms() + (long long)(o->timeout * 1000) : deadline;
}

/* The CT's PID 1 as a host pid, the way PVE asks for it (`lxc-info -p`), or 0 if LXC cannot say yet. */
static pid_t lxc_init_pid(const struct launcher *o)
{
	int out[2];
	if (pipe2(out, O_CLOEXEC) != 0)
		fail("pipe: %s", strerror(errno));
	pid_t child = fork();
	if (child < 0)
		fail("fork: %s", strerror(errno));
	if (child == 0) {
		/* Nothing of the caller's (its stdio, preserved fds) may reach a tool. */
		int devnull = open("/dev/null", O_RDWR);
		dup2(devnull, 0);
		dup2(out[1], 1);
		dup2(devnull, 2);
		close_range(3, ~0U, 0);
		execl(o->lxc_info, "lxc-info", "-P", o->lxcpath, "-n", o->vmid, "-p", "-H", (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	char text[64];
	size_t got = 0;
	ssize_t n;
	while ((n = read(out[0], text + got, sizeof text - 1 - got)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			got += (size_t)n;
	close(out[0]);
	text[got] = '\0';
	int status;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return 0;
	char *end;
	long pid = strtol(text, &end, 10);
	return pid > 0 && (*end == '\n' || *end == '\0') ? (pid_t)pid : 0;
}

/* The last NSpid field of a process: its pid in its own pid namespace, or 0. */
static pid_t pid_in_own_namespace(pid_t pid)
{
	char path[64], text[4096];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if (read_small(path, text, sizeof text) < 0)
		return 0;
	char *line = strstr(text, "\nNSpid:");
	if (!line)
		return 0;
	line += 7;
	char *end = strchr(line, '\n');
	if (end)
		*end = '\0';
	char *last = strrchr(line, '\t');
	return (pid_t)atoi(last ? last + 1 : line);
}

static int same_file(const char *path, const struct stat *want)
{
	struct stat st;
	return stat(path, &st) == 0 && st.st_dev == want->st_dev && st.st_ino == want->st_ino;
}

/* The init of this container's CT, as a pidfd (its host pid in *pid). LXC names a pid; it is ours only
 * if it is PID 1 of its namespace and has this very ct/run mounted at /.pxoci/run (another CT on the
 * same rootfs has another one). The pidfd keeps naming that process: every later step acts on it. */
static int find_init(const struct launcher *o, int run_fd, long long deadline, pid_t *pid)
{
	struct stat run;
	if (fstat(run_fd, &run) != 0)
		fail("cannot stat the runtime dir: %s", strerror(errno));
	for (;;) {
		pid_t candidate = lxc_init_pid(o);
		int pidfd = candidate > 0 ? pidfd_open_pid(candidate) : -1;
		if (pidfd >= 0) {
			char mounted[80];
			snprintf(mounted, sizeof mounted, "/proc/%d/root/.pxoci/run", (int)candidate);
			if (pid_in_own_namespace(candidate) == 1 && same_file(mounted, &run) && pidfd_alive(pidfd) == 0) {
				*pid = candidate;
				return pidfd;
			}
			fail("lxc-info names pid %d as CT %s's init, which is not this container's", (int)candidate, o->vmid);
		}
		/* ESRCH: the process LXC named is gone already; ask again, as when LXC could not say yet. */
		if (candidate > 0 && errno != ESRCH)
			fail("pidfd_open: %s", strerror(errno));
		if (remaining_ms(deadline) == 0)
			fail("lxc-info cannot name CT %s's init", o->vmid);
		usleep(10000);
	}
}

/* Waits for a child that did one step as host root in the CT's namespaces; one that failed has
 * already reported why on the report fd, so the launcher only ends. */
static void await_child_step(pid_t child)
{
	int status;
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			fail("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		_exit(1);
}

/* /proc/sys/net and the IPC keys of /proc/sys/kernel show the namespaces of whoever writes them: a child
 * that joins the CT's net and IPC namespaces sets the CT's values (LXC's lxc.sysctl.* fails once
 * proc:mixed has made the CT's /proc/sys read-only). It keeps our mount namespace, and its /proc. An
 * IPC namespace owned by the CT's user namespace lets only that namespace's root write its sysctls
 * (the kernel's ipc_permissions), so in a user-namespaced CT the writer joins it, as its root. */
static void apply_sysctls(const struct launcher *o, pid_t init, int init_pidfd)
{
	pid_t child = fork();
	if (child < 0)
		fail("fork: %s", strerror(errno));
	if (child == 0) {
		int flags = ct_namespace_flags(init, CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWIPC);
		if (setns(init_pidfd, flags) != 0)
			fail("cannot enter the CT's network and IPC namespaces: %s", strerror(errno));
		if ((flags & CLONE_NEWUSER) && (setgroups(0, NULL) != 0 || setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0))
			fail("cannot become root in the CT's user namespace: %s", strerror(errno));
		for (int i = 0; i < o->nsysctls; i++) {
			const char *kv = o->sysctls[i], *eq = strchr(kv, '=');
			if (!eq)
				_exit(1);
			char path[512];
			int len = snprintf(path, sizeof path, "/proc/sys/%.*s", (int)(eq - kv), kv);
			for (int j = 10; j < len; j++)
				if (path[j] == '.')
					path[j] = '/';
			int s = open(path, O_WRONLY | O_CLOEXEC);
			if (s < 0 || write(s, eq + 1, strlen(eq + 1)) < 0)
				fail("linux.sysctl[\"%.*s\"]: %s", (int)(eq - kv), kv, strerror(errno));
			close(s);
		}
		_exit(0);
	}
	await_child_step(child);
}

/* Once the init has taken the keeper's connection (it then removes its socket), nothing in the CT may
 * keep a place to write on the host: the read-write bind of ct/run at /.pxoci/run goes. The init
 * cannot do it itself (the container's capabilities bound it, usually without CAP_SYS_ADMIN), so a
 * child of ours, host root, does it in the CT's mount namespace. */
static void unmount_run_dir(int init_pidfd)
{
	pid_t child = fork();
	if (child < 0)
		fail("fork: %s", strerror(errno));
	if (child == 0) {
		if (setns(init_pidfd, CLONE_NEWNS) != 0)
			fail("cannot enter the CT's mount namespace: %s", strerror(errno));
		if (umount2("/.pxoci/run", MNT_DETACH) != 0)
			fail("cannot unmount /.pxoci/run in the CT: %s", strerror(errno));
		_exit(0);
	}
	await_child_step(child);
}

/* Closes every fd but 0..nfds-1 and the ones in keep. */
static void close_all_but(int nfds, const int *keep, int nkeep)
{
	int from = nfds;
	for (;;) {
		int next = INT_MAX;
		for (int i = 0; i < nkeep; i++)
			if (keep[i] >= from && keep[i] < next)
				next = keep[i];
		if (next == INT_MAX) {
			close_range((unsigned)from, ~0U, 0);
			return;
		}
		if (next > from)
			close_range((unsigned)from, (unsigned)next - 1, 0);
		from = next + 1;
	}
}

/* What the CT sees of its keeper (`podman top`, ps in the CT) is its command line: a name, rather than
 * the host paths of ours (the state root, the engine's console socket). Recovery never looks for the
 * keeper by its command line: it dies with the CT. The kernel's argument area (/proc/self/stat fields
 * 48, 49) is overwritten in place, its last byte left non-NUL: the kernel then shows it up to its
 * first NUL, as for setproctitle(3). (Moving the area itself, PR_SET_MM, needs CAP_SYS_RESOURCE.) */
static void retitle_for_the_ct(void)
{
	static const char title[] = "pxoci-keeper";
	char stat[2048];
	if (read_small("/proc/self/stat", stat, sizeof stat) < 0)
		return;
	char *p = strrchr(stat, ')');
	unsigned long arg_start = 0, arg_end = 0;
	for (int field = 2; p && field < 48; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%lu %lu", &arg_start, &arg_end) != 2 || arg_end - arg_start < sizeof title + 1)
		return;
	char *area = (char *)arg_start;
	size_t len = arg_end - arg_start;
	memset(area, 0, len);
	memcpy(area, title, sizeof title - 1);
	area[len - 1] = ' ';
	prctl(PR_SET_NAME, title, 0, 0, 0);
}

/* The bridge: joins the init's cgroups while still host root, then its namespaces and label, forks the
 * keeper there, tells the launcher the keeper's host pid (what fork returns here) and exits. Orphaned,
 * the keeper goes to the first child subreaper above us at the host's pid-namespace level. */
static void bridge(const struct launcher *o, pid_t init, int init_pidfd, int state_fd, int to_launcher, int keeper_report, int keeper_ack, const int *ns_fds)
{
	char err[1024];
	/* Not dumpable, from here on and in the keeper (mm flags survive fork): the CT's root may not
	 * ptrace it or open its /proc fds, which include the host state dir. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* The keeper's names point into our argv, which the retitling clears. */
	char exit_name[256], start_result_name[256];
	snprintf(exit_name, sizeof exit_name, "%s", o->exit_name);
	snprintf(start_result_name, sizeof start_result_name, "%s", o->start_result_name ? o->start_result_name : "");
	retitle_for_the_ct();
	struct ct_label label;
	if (ct_join_cgroups(init, err, sizeof err) != 0 || ct_label_prepare(init, &label, err, sizeof err) != 0)
		goto failed;
	int flags = ct_namespace_flags(init, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP);
	if (setns(init_pidfd, flags) != 0) {
		snprintf(err, sizeof err, "cannot enter the CT's namespaces: %s", strerror(errno));
		goto failed;
	}
	/* The namespaces the container is to run in instead: the keeper, the pid an engine joins others
	 * to by /proc/<pid>/ns, must be in them too. */
	for (int i = 0; i < o->njoins; i++) {
		if (setns(ns_fds[i], o->joins[i].type) != 0) {
			snprintf(err, sizeof err, "%s: cannot join %s: %s", o->joins[i].field, o->joins[i].path, strerror(errno));
			goto failed;
		}
	}
	if (ct_label_apply(&label, err, sizeof err) != 0)
		goto failed;
	pid_t keeper = fork(); /* the first child in a pid namespace we joined is in it */
	if (keeper < 0) {
		snprintf(err, sizeof err, "fork: %s", strerror(errno));
		goto failed;
	}
	if (keeper == 0) {
		int keep[3 + sizeof o->joins / sizeof o->joins[0]] = {state_fd, keeper_report, keeper_ack};
		for (int i = 0; i < o->njoins; i++)
			keep[3 + i] = ns_fds[i];
		close_all_but(o->nfds, keep, 3 + o->njoins);
		struct keeper_ct k = {o->nfds, state_fd, exit_name, start_result_name[0] ? start_result_name : NULL, keeper_report, keeper_ack, ns_fds, o->njoins};
		keeper_in_ct(&k);
	}
	write_line(to_launcher, "keeper %d", (int)keeper);
	_exit(0);
failed:
	write_line(to_launcher, "error %s", err);
	_exit(1);
}

/* Reads one line (without its newline) from a pipe, waiting at most until deadline; NULL at EOF. */
static char *read_line(int fd, char *buf, size_t size, long long deadline, const char *waiting_for)
{
	size_t got = 0;
	while (got < size - 1) {
		struct pollfd p = {fd, POLLIN, 0};
		int left = remaining_ms(deadline);
		int r = left == 0 ? 0 : poll(&p, 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			fail("timed out waiting for %s", waiting_for);
		ssize_t n = read(fd, buf + got, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		if (buf[got] == '\n')
			break;
		got++;
	}
	buf[got] = '\0';
	return buf;
}

/* The container process's host pid: the init's one child (it forks nothing else), checked against
 * the pid the keeper saw in the CT. */
static pid_t process_host_pid(pid_t init, pid_t in_ct)
{
	char path[80], text[4096];
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)init, (int)init);
	if (read_small(path, text, sizeof text) < 0)
		fail("cannot read %s: %s", path, strerror(errno));
	for (char *p = text, *end; *p; p = end) {
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		if (pid > 0 && pid_in_own_namespace((pid_t)pid) == in_ct)
			return (pid_t)pid;
	}
	fail("the container process (pid %d in the CT) is no child of the CT's init", (int)in_ct);
}

/* TYPE:FIELD:PATH; the path, last, may hold colons. */
static int parse_join(struct launcher *o, char *v)
{
	char *c1 = strchr(v, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c2 || c2[1] != '/')
		return -1;
	*c1 = *c2 = '\0';
	static const struct {
		const char *name, *what;
		int type;
	} types[] = {{"net", "network", CLONE_NEWNET}, {"ipc", "IPC", CLONE_NEWIPC}, {"uts", "UTS", CLONE_NEWUTS}};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		if (strcmp(v, types[i].name) != 0)
			continue;
		o->joins[o->njoins].type = types[i].type;
		o->joins[o->njoins].name = types[i].what;
		o->joins[o->njoins].field = c1 + 1;
		o->joins[o->njoins].path = c2 + 1;
		o->njoins++;
		return 0;
	}
	return -1;
}

/* Opens each --join namespace on the host, now, before anything else is made: a path that is no
 * namespace of that type fails create at once. The path is followed (/proc/<pid>/ns/net is a link by
 * design): what counts is what it leads to. That is first only looked at (O_PATH: opening a device or
 * a fifo the config names could do something on the host) and opened for real only when it is on
 * nsfs; then nsfs says which type of namespace it is (NS_GET_NSTYPE). */
static void open_joins(const struct launcher *o, int *fds)
{
	for (int i = 0; i < o->njoins; i++) {
		int where = open(o->joins[i].path, O_PATH | O_CLOEXEC);
		if (where < 0)
			fail("%s: cannot open %s: %s", o->joins[i].field, o->joins[i].path, strerror(errno));
		struct statfs fs;
		if (fstatfs(where, &fs) != 0 || fs.f_type != NSFS_MAGIC)
			fail("%s: %s is not a %s namespace", o->joins[i].field, o->joins[i].path, o->joins[i].name);
		char reopen[64];
		snprintf(reopen, sizeof reopen, "/proc/self/fd/%d", where);
		fds[i] = open(reopen, O_RDONLY | O_CLOEXEC);
		close(where);
		if (fds[i] < 0)
			fail("%s: cannot open %s: %s", o->joins[i].field, o->joins[i].path, strerror(errno));
		if (ioctl(fds[i], NS_GET_NSTYPE) != o->joins[i].type)
			fail("%s: %s is not a %s namespace", o->joins[i].field, o->joins[i].path, o->joins[i].name);
	}
}

static void parse_args(struct launcher *o, int argc, char **argv)
{
	*o = (struct launcher){.nfds = 3, .timeout = 30, .started_fd = -1};
	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		long uid, gid;
		if (!v) {
			fprintf(stderr, "keeper: %s needs a value\n", a);
			exit(2);
		}
		if (strcmp(a, "--ct-dir") == 0)
			o->ct_dir = v;
		else if (strcmp(a, "--exit-file") == 0)
			o->exit_name = v;
		else if (strcmp(a, "--start-result") == 0)
			o->start_result_name = v;
		else if (strcmp(a, "--report-fd") == 0)
			report_fd = atoi(v);
		else if (strcmp(a, "--nfds") == 0)
			o->nfds = atoi(v);
		else if (strcmp(a, "--console-socket") == 0)
			o->console_socket = v;
		else if (strcmp(a, "--timeout") == 0)
			o->timeout = atof(v);
		else if (strcmp(a, "--started-fd") == 0)
			o->started_fd = atoi(v);
		else if (strcmp(a, "--vmid") == 0)
			o->vmid = v;
		else if (strcmp(a, "--lxcpath") == 0)
			o->lxcpath = v;
		else if (strcmp(a, "--lxc-info") == 0)
			o->lxc_info = v;
		else if (strcmp(a, "--join") == 0 && o->njoins < (int)(sizeof o->joins / sizeof o->joins[0]) && parse_join(o, argv[i + 1]) == 0)
			;
		else if (strcmp(a, "--sysctl") == 0 && o->nsysctls < 64)
			o->sysctls[o->nsysctls++] = v;
		else if (strcmp(a, "--owner") == 0 && sscanf(v, "%ld:%ld", &uid, &gid) == 2 && uid >= 0 && gid >= 0) {
			o->owner_uid = (uid_t)uid;
			o->owner_gid = (gid_t)gid;
		} else {
			fprintf(stderr, "keeper: unknown option %s\n", a);
			exit(2);
		}
	}
	int names_ok = o->exit_name && !strchr(o->exit_name, '/') && (!o->start_result_name || !strchr(o->start_result_name, '/'));
	if (!o->ct_dir || !names_ok || !o->vmid || !o->lxcpath || !o->lxc_info || report_fd < 0 || o->nfds < 3 || o->nfds > WIRE_MAX_FDS) {
		fprintf(stderr, "keeper: --ct-dir, --exit-file (a name), --vmid, --lxcpath, --lxc-info and --report-fd are required\n");
		exit(2);
	}
}

int cmd_keeper(int argc, char **argv)
{
	struct launcher o;
	parse_args(&o, argc, argv);
	/* Every fd the container is to get must be open now: a closed one would be taken by the first
	 * fd opened below (the state dir), and handed to the container in its place. */
	for (int i = 0; i < o.nfds; i++)
		if (fcntl(i, F_GETFD) < 0)
			fail("fd %d, which the container is to inherit, is not open", i);
	signal(SIGPIPE, SIG_IGN);
	/* Modes below are meant exactly: the caller's umask must not widen or narrow them. */
	umask(077);

	int ns_fds[sizeof o.joins / sizeof o.joins[0]];
	open_joins(&o, ns_fds);

	/* The state dir as it is now: everything the keeper writes goes through this fd. */
	char state_dir[PATH_MAX];
	snprintf(state_dir, sizeof state_dir, "%s", o.ct_dir);
	char *slash = strrchr(state_dir, '/');
	if (!slash || slash == state_dir)
		fail("--ct-dir %s: not <state dir>/ct", o.ct_dir);
	*slash = '\0';
	int state_fd = open(state_dir, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int ct_fd = state_fd < 0 ? -1 : openat(state_fd, slash + 1, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (ct_fd < 0)
		fail("cannot open %s: %s", o.ct_dir, strerror(errno));
	/* ct/ is bind-mounted read-only at /.pxoci: the container process opens the fifo there (a fifo is
	 * usable on a read-only mount); run/ is the one place the init may write (its socket). */
	if (mkfifoat(ct_fd, "start.fifo", 0600) != 0 || fchownat(ct_fd, "start.fifo", o.owner_uid, o.owner_gid, AT_SYMLINK_NOFOLLOW) != 0)
		fail("cannot create %s/start.fifo: %s", o.ct_dir, strerror(errno));
	if (mkdirat(ct_fd, "run", 0700) != 0 || fchownat(ct_fd, "run", o.owner_uid, o.owner_gid, AT_SYMLINK_NOFOLLOW) != 0)
		fail("cannot create %s/run: %s", o.ct_dir, strerror(errno));
	int run_fd = openat(ct_fd, "run", O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (run_fd < 0)
		fail("cannot open %s/run: %s", o.ct_dir, strerror(errno));
	close(ct_fd);
	char run_path[PATH_MAX + 8];
	snprintf(run_path, sizeof run_path, "%s/run", o.ct_dir);
	write_line(report_fd, "pid %d", (int)getpid());

	long long deadline = wait_for_socket(&o, run_fd, run_path);
	pid_t init;
	int init_pidfd = find_init(&o, run_fd, deadline, &init);

	int from_bridge[2], from_keeper[2], to_keeper[2];
	if (pipe2(from_bridge, O_CLOEXEC) != 0 || pipe2(from_keeper, O_CLOEXEC) != 0 || pipe2(to_keeper, O_CLOEXEC) != 0)
		fail("pipe: %s", strerror(errno));
	pid_t bridge_pid = fork();
	if (bridge_pid < 0)
		fail("fork: %s", strerror(errno));
	if (bridge_pid == 0) {
		close(from_bridge[0]);
		close(from_keeper[0]);
		close(to_keeper[1]);
		bridge(&o, init, init_pidfd, state_fd, from_bridge[1], from_keeper[1], to_keeper[0], ns_fds);
	}
	for (int i = 0; i < o.njoins; i++)
		close(ns_fds[i]);
	close(from_bridge[1]);
	close(from_keeper[1]);
	close(to_keeper[0]);
	/* The container's stdio is the keeper's to hand over now: nothing here may keep the caller's pipes. */
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int i = 0; i < o.nfds; i++)
		if (i != report_fd)
			dup2(devnull, i);

	/* From here each step is quick; the same allowance again covers a loaded machine. */
	deadline = now_ms() + (long long)(o.timeout * 1000);
	char line[2048];
	if (!read_line(from_bridge[0], line, sizeof line, deadline, "the keeper to start"))
		fail("the keeper's bridge into the CT ended without a word");
	if (strncmp(line, "error ", 6) == 0)
		fail("%s", line + 6);
	int keeper_number;
	if (sscanf(line, "keeper %d", &keeper_number) != 1)
		fail("the keeper's bridge into the CT said: %s", line);
	pid_t keeper = (pid_t)keeper_number;
	waitpid(bridge_pid, NULL, 0);
	int keeper_pidfd = pidfd_open_pid(keeper);
	if (keeper_pidfd < 0) {
		/* A keeper that ended this soon (a subreaper reaps it at once) may have relayed why: the init
		 * failed before the container was ready, e.g. no such executable. Its words are the answer. */
		int err = errno;
		if (read_line(from_keeper[0], line, sizeof line, deadline, "the keeper's last word") && strncmp(line, "error ", 6) == 0)
			fail("%s", line + 6);
		fail("the keeper (pid %d) is gone: %s", (int)keeper, strerror(err));
	}

	for (;;) {
		if (!read_line(from_keeper[0], line, sizeof line, deadline, "the container process to be ready"))
			fail("the keeper ended before the container was ready");
		if (strncmp(line, "error ", 6) == 0)
			fail("%s", line + 6);
		int fd;
		char name[256];
		pid_t in_ct;
		if (sscanf(line, "console %d %255s", &fd, name) == 2) {
			if (!o.console_socket)
				fail("the process wants a terminal but no --console-socket was given");
			int master = pidfd_get_fd(keeper_pidfd, fd);
			if (master < 0)
				fail("cannot take the console from the keeper: %s", strerror(errno));
			if (send_console(o.console_socket, master, name) != 0)
				fail("cannot send the console to %s: %s", o.console_socket, strerror(errno));
			close(master);
			write_all(to_keeper[1], "1", 1);
		} else if (sscanf(line, "ready %d", &in_ct) == 1) {
			pid_t process = process_host_pid(init, in_ct);
			/* Now, not before: the init has joined the namespaces the config names, and these
			 * sysctls belong to those. */
			if (o.nsysctls > 0)
				apply_sysctls(&o, init, init_pidfd);
			unmount_run_dir(init_pidfd);
			if (pidfd_alive(keeper_pidfd) != 0)
				fail("the keeper ended before the container was ready");
			write_line(report_fd, "ready %d %d %d", (int)init, (int)process, (int)keeper);
			return 0;
		} else {
			fail("the keeper said: %s", line);
		}
	}
}
