/* The frames the CT's init and the keeper exchange on init.sock, both of them processes of the CT.
 * Shared by the init (static) and the keeper (pxoci-helper); wire.c is linked into both.
 *
 * A frame is one tag byte, a 4-byte little-endian payload length, then the payload.
 * Frames that carry credentials are sent with SCM_CREDENTIALS: the kernel gives the receiver the
 * sender's pid in the receiver's pid namespace, the CT's.
 */
#ifndef PXOCI_WIRE_H
#define PXOCI_WIRE_H

#include <stdint.h>
#include <sys/socket.h>

enum {
	FRAME_STDIO = 'F',        /* keeper -> init, first, with SCM_RIGHTS: fds 0..n-1 for the process */
	FRAME_NAMESPACES = 'N',   /* keeper -> init, right after FRAME_STDIO when the init joins namespaces,
	                           * with SCM_RIGHTS: one fd per namespace, in the order of the init spec */
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
