/* pxoci-init as PID 1 of a pxoci CT (lxc.init.cmd = /.pxoci/init).
 *
 * PVE starts the CT under systemd with its stdout discarded, so nothing the CT's init inherits is
 * the engine's. This init takes the engine's stdio from pxoci's keeper, which the host joins into
 * the CT and which connects to the init's socket, forks the container process, which waits on
 * /.pxoci/start.fifo until `pxoci start` (the `created` state), and reports that process's wait
 * status back when it ends, so the keeper can exit with it.
 * It stays PID 1 to reap orphans and forward signals (lxc-stop / pct shutdown signal PID 1).
 */
#include "init-keeper.h"
#include "init-modes.h"
#include "init-process.h"
#include "init-spec.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define RUNTIME_DIR "/.pxoci"

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

/* The container process: everything that can fail `create` happens here, before it is reported
 * ready; then it waits at start.fifo for `pxoci start`. */
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

	apply_limits(p);
	/* Opened before the uid changes (the fifo is the CT root's only), and read-write so that the open
	 * does not wait for `start`: runc too has its process fully set up before it waits. */
	int fifo = open(RUNTIME_DIR "/start.fifo", O_RDWR | O_CLOEXEC);
	if (fifo < 0)
		fail("open start fifo: %s", strerror(errno));
	make_cwd(p->cwd);
	assume_process(p);
	char *exe = resolve_executable(p);

	if (wire_send(keeper_sock, FRAME_CHILD_READY, NULL, 0, 1, NULL, 0) != 0)
		_exit(127);

	/* The `created` state: block here until `pxoci start` writes to the fifo. */
	char go;
	ssize_t r;
	do
		r = read(fifo, &go, 1);
	while (r < 0 && errno == EINTR);
	close(fifo);
	if (r != 1)
		_exit(127);
	/* The connection (close-on-exec) stays open for the startContainer hooks' report. */

	exec_process(p, exe);
}

/* Moves this init, and so everything it forks and everything lxc-attach later puts beside it, into the
 * namespaces the keeper sent (the config's paths, or the host's ones it left out; docs/DESIGN.md,
 * "Joining namespaces"). Each fd is checked to be a namespace of the type the spec names before it is
 * joined. Then CAP_SYS_ADMIN, which the CT's bounding set kept only for this, goes, unless the process
 * itself is to have it. */
static void join_namespaces(struct process_spec *p)
{
	static struct wire_frame frame;
	if (wire_recv(keeper_sock, &frame) != 1 || frame.tag != FRAME_NAMESPACES || frame.nfds != p->njoins)
		fail("the pxoci keeper sent no namespaces to join%s", "");
	for (int i = 0; i < p->njoins; i++) {
		int type = ioctl(frame.fds[i], NS_GET_NSTYPE);
		if (type != p->joins[i])
			fail("the pxoci keeper sent a namespace of the wrong type%s", "");
		if (setns(frame.fds[i], type) != 0)
			fail("cannot join the namespace linux.namespaces names: setns: %s", strerror(errno));
		close(frame.fds[i]);
	}
	struct utsname now;
	if (p->hostname && (uname(&now) != 0 || strcmp(now.nodename, p->hostname) != 0) && sethostname(p->hostname, strlen(p->hostname)) != 0)
		fail("cannot set the hostname in the joined UTS namespace: %s", strerror(errno));
	if (!p->have_caps || (p->cap_bounding & (1ULL << CAP_SYS_ADMIN)))
		return;
	struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2];
	int word = CAP_SYS_ADMIN / 32;
	uint32_t bit = 1U << (CAP_SYS_ADMIN % 32);
	if (prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0) != 0 || syscall(SYS_capget, &header, data) != 0)
		fail("cannot drop CAP_SYS_ADMIN after joining namespaces: %s", strerror(errno));
	data[word].effective &= ~bit;
	data[word].permitted &= ~bit;
	data[word].inheritable &= ~bit;
	if (syscall(SYS_capset, &header, data) != 0)
		fail("cannot drop CAP_SYS_ADMIN after joining namespaces: %s", strerror(errno));
}

int init_pid1(void)
{
	static struct process_spec spec;
	read_spec(&spec, RUNTIME_DIR "/process");

	accept_keeper();
	static struct wire_frame frame;
	if (wire_recv(keeper_sock, &frame) != 1 || frame.tag != FRAME_STDIO || frame.nfds < 3)
		fail("the pxoci keeper sent no stdio%s", "");
	if (spec.njoins > 0)
		join_namespaces(&spec);

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
		if (wire_send(keeper_sock, FRAME_CONSOLE, name, (uint32_t)strlen(name), 0, &master, 1) != 0)
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
			wire_send(keeper_sock, FRAME_EXIT, payload, 4, 0, NULL, 0);
			await_keeper_close();
			/* Leaving PID 1 ends the CT: the kernel kills what is left, as with runc. */
			_exit(0);
		}
	}
}
