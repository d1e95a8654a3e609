/* pxoci-helper: the few things pxoci needs that Node cannot do (flock, SCM_RIGHTS, ptys, reaping,
 * setns). Each command lives in a file of its own (helper-commands.h); this only picks one by its
 * word, the first argument. */
#include "helper-commands.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc >= 2) {
		if (strcmp(argv[1], "lock") == 0)
			return cmd_lock(argc - 1, argv + 1);
		if (strcmp(argv[1], "keeper") == 0)
			return cmd_keeper(argc - 1, argv + 1);
		if (strcmp(argv[1], "run") == 0)
			return cmd_run(argc - 1, argv + 1);
		if (strcmp(argv[1], "nsexec") == 0)
			return cmd_nsexec(argc - 1, argv + 1);
		if (strcmp(argv[1], "mount-hook") == 0)
			return cmd_mount_hook(argc - 1, argv + 1);
		if (strcmp(argv[1], "ct-setup") == 0)
			return cmd_ct_setup(argc - 1, argv + 1);
		if (strcmp(argv[1], "reaper") == 0)
			return cmd_reaper(argc - 1, argv + 1);
	}
	fprintf(stderr, "usage: pxoci-helper lock|keeper|run|nsexec|mount-hook|ct-setup|reaper ...\n");
	return 2;
}
