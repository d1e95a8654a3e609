/* `pxoci exec` runs `lxc-attach ... -- /.pxoci/init exec <spec>`: lxc-attach enters the CT, this applies
 * the exec'd process's spec exactly as for the container process (cwd, groups, rlimits, ...). */
#include "init-modes.h"
#include "init-process.h"
#include "init-spec.h"

#include <sys/ioctl.h>
#include <unistd.h>

int init_exec(const char *spec_path)
{
	static struct process_spec spec;
	read_spec(&spec, spec_path);
	char *exe = resolve_executable(&spec);
	/* When the caller's side is a terminal (run's pty for --console-socket), lxc-attach already gave
	 * us a pty of the CT as controlling terminal (its relay needs the caller's side to be run's
	 * controlling terminal, see run.c); these only matter, and may fail harmlessly, otherwise. */
	if (spec.terminal) {
		setsid();
		ioctl(0, TIOCSCTTY, 0);
	}
	apply_limits(&spec);
	become_process(&spec, exe);
}
