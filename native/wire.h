/* The frames the in-CT init and the host-side keeper exchange on init.sock.
 * Shared by the init (static, inside the CT) and the keeper (host); wire.c is linked into both.
 *
 * A frame is one tag byte, a 4-byte little-endian payload length, then the payload.
 * Frames that carry credentials are sent with SCM_CREDENTIALS so the kernel rewrites the
 * sender's pid into the keeper's (host) pid namespace: that is how pxoci learns host pids
 * without asking LXC.
 */
#ifndef PXOCI_WIRE_H
#define PXOCI_WIRE_H

#include <stdint.h>
#include <sys/socket.h>

enum {
	FRAME_INIT_HELLO = 'I',   /* init -> keeper, with creds: the CT's PID 1 */
	FRAME_STDIO = 'F',        /* keeper -> init, with SCM_RIGHTS: fds 0..n-1 for the process */
	FRAME_CONSOLE = 'T',      /* init -> keeper, with SCM_RIGHTS: the CT's pty master, payload its name */
	FRAME_CHILD_READY = 'C',  /* init's child -> keeper, with creds: the container process exists and waits */
	FRAME_ERROR = 'E',        /* init -> keeper: text, create must fail with it */
	FRAME_EXIT = 'X',         /* init -> keeper: raw wait status of the container process, wire_le32 */
	FRAME_STARTED = 'S',      /* init's child -> keeper: startContainer hooks done; payload: empty, or the error */
};

#define WIRE_MAX_FDS 253

struct wire_frame {
	char tag;
	uint32_t len;
	char payload[4096];
	int has_creds;
	struct ucred creds;
	int fds[WIRE_MAX_FDS];
	int nfds;
};

/* Sends one frame; with_creds adds SCM_CREDENTIALS, fds (at most WIRE_MAX_FDS) go as SCM_RIGHTS.
 * 0, or -1 with errno set. */
int wire_send(int sock, char tag, const void *payload, uint32_t len, int with_creds, const int *fds, int nfds);

/* Receives one frame, its payload NUL-terminated; fds arrive close-on-exec. 1 for a frame, 0 on
 * orderly EOF, -1 on error. */
int wire_recv(int sock, struct wire_frame *f);

/* The little-endian 32-bit numbers of the wire: a frame's length, FRAME_EXIT's wait status. */
void wire_le32_put(unsigned char out[4], uint32_t value);
uint32_t wire_le32_get(const unsigned char in[4]);

#endif
