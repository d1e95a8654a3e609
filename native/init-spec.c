/* Reading a process spec: see init-spec.h. */
#include "init-spec.h"
#include "init-keeper.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
	{"RLIMIT_AS", RLIMIT_AS},	      {"RLIMIT_CORE", RLIMIT_CORE},
	{"RLIMIT_CPU", RLIMIT_CPU},	      {"RLIMIT_DATA", RLIMIT_DATA},
	{"RLIMIT_FSIZE", RLIMIT_FSIZE},	      {"RLIMIT_LOCKS", RLIMIT_LOCKS},
	{"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},   {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
	{"RLIMIT_NICE", RLIMIT_NICE},	      {"RLIMIT_NOFILE", RLIMIT_NOFILE},
	{"RLIMIT_NPROC", RLIMIT_NPROC},	      {"RLIMIT_RSS", RLIMIT_RSS},
	{"RLIMIT_RTPRIO", RLIMIT_RTPRIO},     {"RLIMIT_RTTIME", RLIMIT_RTTIME},
	{"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
};

static rlim_t parse_rlim(const char *s)
{
	if (strcmp(s, "unlimited") == 0)
		return RLIM_INFINITY;
	return (rlim_t)strtoull(s, NULL, 10);
}

static void parse_rlimit(struct process_spec *p, char *value)
{
	char *soft = strchr(value, ':');
	char *hard = soft ? strchr(soft + 1, ':') : NULL;
	if (!soft || !hard)
		fail("bad rlimit record %s", value);
	*soft++ = '\0';
	*hard++ = '\0';
	for (size_t i = 0; i < sizeof rlimit_names / sizeof rlimit_names[0]; i++) {
		if (strcmp(rlimit_names[i].name, value) == 0) {
			if (p->nrlimits >= 64)
				fail("too many rlimits%s", "");
			p->rlimits[p->nrlimits].resource = rlimit_names[i].resource;
			p->rlimits[p->nrlimits].value.rlim_cur = parse_rlim(soft);
			p->rlimits[p->nrlimits].value.rlim_max = parse_rlim(hard);
			p->nrlimits++;
			return;
		}
	}
	fail("unknown rlimit %s", value);
}

void read_spec(struct process_spec *p, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail("cannot open the process spec: %s", strerror(errno));
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	memset(p, 0, sizeof *p);
	p->cwd = "/";
	size_t pos = 0;
	while (pos < len) {
		char *tag = buf + pos;
		char *tag_end = memchr(tag, '\0', len - pos);
		if (!tag_end || tag_end + 1 >= buf + len)
			fail("truncated process spec%s", "");
		char *value = tag_end + 1;
		char *value_end = memchr(value, '\0', (size_t)(buf + len - value));
		if (!value_end)
			fail("truncated process spec%s", "");
		pos = (size_t)(value_end + 1 - buf);
		if (strcmp(tag, "arg") == 0 && p->nargs < MAX_ITEMS)
			p->args[p->nargs++] = value;
		else if (strcmp(tag, "env") == 0 && p->nenv < MAX_ITEMS)
			p->env[p->nenv++] = value;
		else if (strcmp(tag, "cwd") == 0)
			p->cwd = value;
		else if (strcmp(tag, "uid") == 0)
			p->uid = (uid_t)strtoul(value, NULL, 10);
		else if (strcmp(tag, "gid") == 0)
			p->gid = (gid_t)strtoul(value, NULL, 10);
		else if (strcmp(tag, "group") == 0) {
			p->have_groups = 1;
			if (p->ngroups < NGROUPS_MAX)
				p->groups[p->ngroups++] = (gid_t)strtoul(value, NULL, 10);
		} else if (strcmp(tag, "umask") == 0) {
			p->have_umask = 1;
			p->umask_value = (mode_t)strtoul(value, NULL, 8);
		} else if (strcmp(tag, "terminal") == 0)
			p->terminal = strcmp(value, "1") == 0;
		else if (strcmp(tag, "nnp") == 0)
			p->no_new_privs = strcmp(value, "1") == 0;
		else if (strcmp(tag, "rlimit") == 0)
			parse_rlimit(p, value);
		else if (strcmp(tag, "oom") == 0)
			p->oom_score_adj = value;
		else if (strncmp(tag, "cap.", 4) == 0) {
			uint64_t mask = strtoull(value, NULL, 16);
			p->have_caps = 1;
			if (strcmp(tag, "cap.bounding") == 0)
				p->cap_bounding = mask;
			else if (strcmp(tag, "cap.effective") == 0)
				p->cap_effective = mask;
			else if (strcmp(tag, "cap.permitted") == 0)
				p->cap_permitted = mask;
			else if (strcmp(tag, "cap.inheritable") == 0)
				p->cap_inheritable = mask;
			else if (strcmp(tag, "cap.ambient") == 0)
				p->cap_ambient = mask;
		}
		else if (strcmp(tag, "statehead") == 0)
			p->state_head = value;
		else if (strcmp(tag, "statetail") == 0)
			p->state_tail = value;
		else if (strcmp(tag, "hook") == 0) {
			if (p->nhooks >= MAX_HOOKS)
				fail("more than %s startContainer hooks", "64");
			p->hooks[p->nhooks++].path = value;
		} else if (strncmp(tag, "hook", 4) == 0 && p->nhooks > 0) {
			struct hook *h = &p->hooks[p->nhooks - 1];
			if (strcmp(tag, "hookarg") == 0 && h->nargs < MAX_HOOK_ITEMS)
				h->args[h->nargs++] = value;
			else if (strcmp(tag, "hookenv") == 0 && h->nenv < MAX_HOOK_ITEMS)
				h->env[h->nenv++] = value;
			else if (strcmp(tag, "hooktimeout") == 0)
				h->timeout = atoi(value);
		}
		else if (strcmp(tag, "join") == 0) {
			int type = strcmp(value, "net") == 0 ? CLONE_NEWNET : strcmp(value, "ipc") == 0 ? CLONE_NEWIPC : strcmp(value, "uts") == 0 ? CLONE_NEWUTS : 0;
			if (!type || p->njoins >= (int)(sizeof p->joins / sizeof p->joins[0]))
				fail("bad join record %s", value);
			p->joins[p->njoins++] = type;
		} else if (strcmp(tag, "hostname") == 0)
			p->hostname = value;
		else if (strcmp(tag, "winsize") == 0 &&
			 sscanf(value, "%hu:%hu", &p->winsize.ws_row, &p->winsize.ws_col) != 2)
			fail("bad winsize record %s", value);
	}
	p->args[p->nargs] = NULL;
	p->env[p->nenv] = NULL;
	if (p->nargs == 0)
		fail("process.args must not be empty%s", "");
}
