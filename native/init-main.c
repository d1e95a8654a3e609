/* pxoci-init: the one static binary pxoci puts in a CT (/.pxoci/init). LXC starts it as the CT's
 * PID 1 (lxc.init.cmd); `pxoci exec` starts it again, through lxc-attach, as `init exec SPEC`. The CT
 * gets one file for both, so both are here; init-modes.h says which file does what. */
#include "init-modes.h"

#include <string.h>

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "exec") == 0)
		return init_exec(argv[2]);
	return init_pid1();
}
