#include "helper.h"
#include <stdio.h>
int cmd_keeper(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "keeper: not built yet\n"); return 2; }
int cmd_sendfd(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "sendfd: not built yet\n"); return 2; }
