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
	if (spec.terminal) {
		setsid();
		ioctl(0, TIOCSCTTY, 0);
	}
	apply_limits(&spec);
	become_process(&spec, exe);
}
