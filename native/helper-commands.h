/* The commands of pxoci-helper, each in its own file: what helper-main.c dispatches to by argv[1].
 * Each takes its own argv (argv[0] is the command's name) and returns the helper's exit code. */
#ifndef PXOCI_HELPER_COMMANDS_H
#define PXOCI_HELPER_COMMANDS_H

int cmd_lock(int argc, char **argv);   /* lock.c: PVE's config flock, held while stdin is open */
int cmd_keeper(int argc, char **argv); /* keeper.c: puts a container's keeper into its CT */
int cmd_run(int argc, char **argv);    /* run.c: `pxoci exec`'s lxc-attach, reapable and with a console */
int cmd_nsexec(int argc, char **argv); /* nsexec.c: a createContainer hook in the CT's namespaces */
int cmd_mount_hook(int argc, char **argv); /* mount-hook.c: lxc.hook.mount, config.json's mounts in the CT */
int cmd_ct_setup(int argc, char **argv);   /* ct-setup.c: devices, /dev/ptmx, propagation after the pivot */
int cmd_reaper(int argc, char **argv); /* reaper.c: runs a command as a child subreaper, as engines do */

#endif
