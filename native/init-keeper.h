/* The init's one connection to the keeper (init.sock), and where its failures go. A failure before
 * the container process waits at start.fifo must fail `pxoci create` with its reason, which only the
 * keeper can hand over; before the connection (and for `pxoci exec`, which has none) stderr is all
 * there is. */
#ifndef PXOCI_INIT_KEEPER_H
#define PXOCI_INIT_KEEPER_H

/* The connected socket, or -1. */
extern int keeper_sock;

/* Reports fmt (one %s, arg) as FRAME_ERROR to the keeper, or on stderr without one, and exits 127. */
void fail(const char *fmt, const char *arg) __attribute__((noreturn));

#endif
