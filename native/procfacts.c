/* Host process facts for the container status: see procfacts.h. */
#include "procfacts.h"
#include "io.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const container_status_names[4] = { "created", "running", "paused", "stopped" };

int proc_start_time(long pid, char out[START_TIME_MAX])
{
	char path[64], stat[1024];
	if (pid <= 0)
		return -1;
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if (read_small(path, stat, sizeof stat) < 0)
		return -1;
	/* The command name may hold spaces and parentheses: fields count from its last ')'. */
	char *p = strrchr(stat, ')');
	if (!p || p[1] != ' ')
		return -1;
	p += 2;
	if (*p == 'Z' || *p == 'X')
		return -1;
	/* p is at field 3; field 22 is 19 spaces further. */
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -1;
		p++;
	}
	size_t len = strcspn(p, " \n");
	if (len == 0 || len >= START_TIME_MAX)
		return -1;
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

int proc_same_alive(long pid, const char *start)
{
	char now[START_TIME_MAX];
	if (proc_start_time(pid, now) < 0)
		return 0;
	return start == NULL || *start == '\0' || strcmp(now, start) == 0;
}

int proc_cgroups(long pid, cgroup_fn fn, void *arg)
{
	char path[64], text[8192];
	snprintf(path, sizeof path, "/proc/%ld/cgroup", pid);
	if (pid <= 0 || read_small(path, text, sizeof text) < 0)
		return -1;
	for (char *line = text, *next; *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		/* hierarchy-id:controller,list:path */
		char *colon1 = strchr(line, ':');
		char *colon2 = colon1 ? strchr(colon1 + 1, ':') : NULL;
		if (!colon1 || !colon2 || colon1 == line)
			continue;
		*colon2 = '\0';
		const char *cgpath = colon2 + 1;
		char *names = colon1 + 1;
		if (*names == '\0') {
			fn("", cgpath, arg);
			continue;
		}
		for (char *name = names, *comma; name; name = comma) {
			comma = strchr(name, ',');
			if (comma)
				*comma++ = '\0';
			fn(strncmp(name, "name=", 5) == 0 ? name + 5 : name, cgpath, arg);
		}
	}
	return 0;
}

struct freezer_paths {
	char v1[PATH_MAX];
	char v2[PATH_MAX];
	int has_v1, has_v2;
};

static void note_freezer(const char *controller, const char *path, void *arg)
{
	struct freezer_paths *f = arg;
	if (strcmp(controller, "freezer") == 0 && !f->has_v1) {
		f->has_v1 = snprintf(f->v1, sizeof f->v1, "%s", path) < (int)sizeof f->v1;
	} else if (*controller == '\0' && !f->has_v2) {
		f->has_v2 = snprintf(f->v2, sizeof f->v2, "%s", path) < (int)sizeof f->v2;
	}
}

int proc_frozen(long pid)
{
	struct freezer_paths f = { .has_v1 = 0, .has_v2 = 0 };
	char file[PATH_MAX + 64], text[256];
	if (proc_cgroups(pid, note_freezer, &f) < 0)
		return 0;
	if (f.has_v1) {
		snprintf(file, sizeof file, "/sys/fs/cgroup/freezer%s/freezer.state", f.v1);
		if (read_small(file, text, sizeof text) >= 0) {
			text[strcspn(text, " \t\r\n")] = '\0';
			return strcmp(text, "THAWED") != 0;
		}
	}
	if (f.has_v2) {
		static const char *const mounts[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
		for (size_t i = 0; i < sizeof mounts / sizeof *mounts; i++) {
			snprintf(file, sizeof file, "%s%s/cgroup.events", mounts[i], f.v2);
			if (read_small(file, text, sizeof text) < 0)
				continue;
			for (char *line = text; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
				if (strncmp(line, "frozen 1", 8) == 0 && (line[8] == '\n' || line[8] == '\0'))
					return 1;
			}
			return 0;
		}
	}
	return 0;
}

/* The keeper writes the container process's wait status: a file without a number is no exit yet. */
static int has_exit_status(const char *exit_file)
{
	char text[64];
	if (read_small(exit_file, text, sizeof text) < 0)
		return 0;
	const char *p = text;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '+' || *p == '-')
		p++;
	return isdigit((unsigned char)*p);
}

enum container_status container_status(const char *exit_file, long pid, const char *pid_start, int started)
{
	if (has_exit_status(exit_file))
		return STATUS_STOPPED;
	if (pid <= 0 || !proc_same_alive(pid, pid_start))
		return STATUS_STOPPED;
	if (!started)
		return STATUS_CREATED;
	return proc_frozen(pid) ? STATUS_PAUSED : STATUS_RUNNING;
}
