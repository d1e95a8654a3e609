/* The init's connection to the keeper: see init-keeper.h. */
#include "init-keeper.h"
#include "wire.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int keeper_sock = -1;

void fail(const char *fmt, const char *arg)
{
	char msg[1024];
	snprintf(msg, sizeof msg, fmt, arg);
	if (keeper_sock >= 0)
		wire_send(keeper_sock, FRAME_ERROR, msg, (uint32_t)strlen(msg), 0, NULL, 0);
	else
		fprintf(stderr, "pxoci-init: %s\n", msg);
	_exit(127);
}
