/* The init's one connection to the keeper (init.sock), and where its failures go. A failure before
 * the container process waits at start.fifo must fail `pxoci create` with its reason, which only the
 * keeper can hand over; before the connection (and for `pxoci exec`, which has none) stderr is all
 * there is. */
#ifndef PXOCI_INIT_KEEPER_H
#define PXOCI_INIT_KEEPER_H

/* The connected socket, or -1. */
extern int keeper_sock;

/* Listens on /.pxoci/run/init.sock for the keeper and takes exactly one connection: the first whose
 * peer is a process of this CT's pid namespace attached from outside it (its parent is not in the
 * CT). Called before the init forks anything, so nothing else in the CT can be that peer. Then the
 * socket goes (and the launcher, on the host, unmounts the read-write /.pxoci/run: the init's bounding
 * set, the container process's, usually lacks CAP_SYS_ADMIN). */
void accept_keeper(void);

/* After the last frame: the kernel kills every process of the CT's pid namespace, the keeper too,
 * once PID 1 exits, so the init waits (a few seconds at most) for the keeper to have written the exit
 * status and to have ended on its own. */
void await_keeper_close(void);

/* Reports fmt (one %s, arg) as FRAME_ERROR to the keeper, or on stderr without one, and exits 127. */
void fail(const char *fmt, const char *arg) __attribute__((noreturn));

#endif
