/* The frames on init.sock: see wire.h. */
#include "wire.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

void wire_le32_put(unsigned char out[4], uint32_t value)
{
	for (int i = 0; i < 4; i++)
		out[i] = (unsigned char)((value >> (8 * i)) & 0xff);
}

uint32_t wire_le32_get(const unsigned char in[4])
{
	return (uint32_t)in[0] | ((uint32_t)in[1] << 8) | ((uint32_t)in[2] << 16) | ((uint32_t)in[3] << 24);
}

int wire_send(int sock, char tag, const void *payload, uint32_t len, int with_creds, const int *fds, int nfds)
{
	unsigned char header[5];
	header[0] = (unsigned char)tag;
	wire_le32_put(header + 1, len);
	struct iovec iov[2] = {{header, sizeof header}, {(void *)payload, len}};
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * WIRE_MAX_FDS)];
		struct cmsghdr align;
	} control;
	memset(&control, 0, sizeof control);
	struct msghdr msg = {0};
	msg.msg_iov = iov;
	msg.msg_iovlen = len ? 2 : 1;
	size_t controllen = 0;
	if (with_creds || nfds > 0) {
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof control.buf;
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		if (with_creds) {
			struct ucred cred = {getpid(), getuid(), getgid()};
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_CREDENTIALS;
			c->cmsg_len = CMSG_LEN(sizeof cred);
			memcpy(CMSG_DATA(c), &cred, sizeof cred);
			controllen += CMSG_SPACE(sizeof cred);
			c = CMSG_NXTHDR(&msg, c);
		}
		if (nfds > 0) {
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
			controllen += CMSG_SPACE(sizeof(int) * (size_t)nfds);
		}
		msg.msg_controllen = controllen;
	}
	ssize_t n;
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	/* Ancillary data went with the first byte; the rest of a long payload may follow plainly. */
	size_t total = sizeof header + len, sent = (size_t)n;
	while (sent < total) {
		const char *p = sent < sizeof header ? (const char *)header + sent
						     : (const char *)payload + (sent - sizeof header);
		size_t chunk = sent < sizeof header ? sizeof header - sent : total - sent;
		ssize_t m = send(sock, p, chunk, MSG_NOSIGNAL);
		if (m < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		sent += (size_t)m;
	}
	return 0;
}

int wire_recv(int sock, struct wire_frame *f)
{
	unsigned char header[5];
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * WIRE_MAX_FDS)];
		struct cmsghdr align;
	} control;
	struct iovec iov = {header, sizeof header};
	struct msghdr msg = {0};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control.buf;
	msg.msg_controllen = sizeof control.buf;
	f->has_creds = 0;
	f->nfds = 0;
	ssize_t n;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return 0;
	if (n < 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_CREDENTIALS) {
			memcpy(&f->creds, CMSG_DATA(c), sizeof f->creds);
			f->has_creds = 1;
		} else if (c->cmsg_type == SCM_RIGHTS) {
			int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			if (count > WIRE_MAX_FDS)
				count = WIRE_MAX_FDS;
			memcpy(f->fds, CMSG_DATA(c), sizeof(int) * (size_t)count);
			f->nfds = count;
		}
	}
	size_t got = (size_t)n;
	while (got < sizeof header) {
		ssize_t m = recv(sock, header + got, sizeof header - got, 0);
		if (m <= 0) {
			if (m < 0 && errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)m;
	}
	f->tag = (char)header[0];
	f->len = wire_le32_get(header + 1);
	if (f->len >= sizeof f->payload)
		return -1;
	got = 0;
	while (got < f->len) {
		ssize_t m = recv(sock, f->payload + got, f->len - got, 0);
		if (m <= 0) {
			if (m < 0 && errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)m;
	}
	f->payload[f->len] = '\0';
	return 1;
}
