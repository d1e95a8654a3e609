/* pxoci-procfacts.node: procfacts.c for the Node side (Node-API), so that the TypeScript commands and
 * the native `state` front decide a container's status with the same code.
 *
 *   status(exitFile, pid, pidStart, started) -> "created" | "running" | "paused" | "stopped"
 *   startTime(pid)                           -> string | undefined
 *   sameAlive(pid, start)                    -> boolean  (start "" = any process with that pid)
 *   cgroups(pid)                             -> [controller, path][] | undefined  ("" = unified)
 */
#include "procfacts.h"

#include <node_api.h>
#include <stdlib.h>

/* A JS call that breaks the TypeScript signatures above is a bug in pxoci: throw, never guess. */
#define CHECK(env, call)                                                               \
	do {                                                                           \
		if ((call) != napi_ok) {                                               \
			napi_throw_error((env), NULL, "pxoci-procfacts: bad call " #call); \
			return NULL;                                                   \
		}                                                                      \
	} while (0)

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv)
{
	size_t argc = want;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != want)
		return -1;
	return 0;
}

static int get_pid(napi_env env, napi_value v, long *pid)
{
	int64_t n;
	if (napi_get_value_int64(env, v, &n) != napi_ok)
		return -1;
	*pid = (long)n;
	return 0;
}

/* Caller frees. */
static char *get_string(napi_env env, napi_value v)
{
	size_t len;
	if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok)
		return NULL;
	char *s = malloc(len + 1);
	if (s && napi_get_value_string_utf8(env, v, s, len + 1, &len) != napi_ok) {
		free(s);
		return NULL;
	}
	return s;
}

static napi_value js_status(napi_env env, napi_callback_info info)
{
	napi_value argv[4], result;
	long pid;
	bool started;
	CHECK(env, get_args(env, info, 4, argv) == 0 ? napi_ok : napi_invalid_arg);
	CHECK(env, get_pid(env, argv[1], &pid) == 0 ? napi_ok : napi_number_expected);
	CHECK(env, napi_get_value_bool(env, argv[3], &started));
	char *exit_file = get_string(env, argv[0]);
	char *start = get_string(env, argv[2]);
	if (!exit_file || !start) {
		free(exit_file);
		free(start);
		napi_throw_error(env, NULL, "pxoci-procfacts: status(exitFile, pid, pidStart, started) wants strings");
		return NULL;
	}
	enum container_status status = container_status(exit_file, pid, start, started);
	free(exit_file);
	free(start);
	CHECK(env, napi_create_string_utf8(env, container_status_names[status], NAPI_AUTO_LENGTH, &result));
	return result;
}

static napi_value js_start_time(napi_env env, napi_callback_info info)
{
	napi_value argv[1], result;
	long pid;
	char start[START_TIME_MAX];
	CHECK(env, get_args(env, info, 1, argv) == 0 ? napi_ok : napi_invalid_arg);
	CHECK(env, get_pid(env, argv[0], &pid) == 0 ? napi_ok : napi_number_expected);
	if (proc_start_time(pid, start) < 0) {
		CHECK(env, napi_get_undefined(env, &result));
		return result;
	}
	CHECK(env, napi_create_string_utf8(env, start, NAPI_AUTO_LENGTH, &result));
	return result;
}

static napi_value js_same_alive(napi_env env, napi_callback_info info)
{
	napi_value argv[2], result;
	long pid;
	CHECK(env, get_args(env, info, 2, argv) == 0 ? napi_ok : napi_invalid_arg);
	CHECK(env, get_pid(env, argv[0], &pid) == 0 ? napi_ok : napi_number_expected);
	char *start = get_string(env, argv[1]);
	if (!start) {
		napi_throw_error(env, NULL, "pxoci-procfacts: sameAlive(pid, start) wants a string");
		return NULL;
	}
	int alive = proc_same_alive(pid, start);
	free(start);
	CHECK(env, napi_get_boolean(env, alive, &result));
	return result;
}

struct cgroup_list {
	napi_env env;
	napi_value array;
	uint32_t length;
	int failed;
};

static void add_cgroup(const char *controller, const char *path, void *arg)
{
	struct cgroup_list *list = arg;
	napi_value pair, name, value;
	if (list->failed)
		return;
	if (napi_create_array_with_length(list->env, 2, &pair) != napi_ok ||
	    napi_create_string_utf8(list->env, controller, NAPI_AUTO_LENGTH, &name) != napi_ok ||
	    napi_create_string_utf8(list->env, path, NAPI_AUTO_LENGTH, &value) != napi_ok ||
	    napi_set_element(list->env, pair, 0, name) != napi_ok || napi_set_element(list->env, pair, 1, value) != napi_ok ||
	    napi_set_element(list->env, list->array, list->length++, pair) != napi_ok)
		list->failed = 1;
}

static napi_value js_cgroups(napi_env env, napi_callback_info info)
{
	napi_value argv[1], result;
	long pid;
	CHECK(env, get_args(env, info, 1, argv) == 0 ? napi_ok : napi_invalid_arg);
	CHECK(env, get_pid(env, argv[0], &pid) == 0 ? napi_ok : napi_number_expected);
	struct cgroup_list list = { .env = env, .length = 0, .failed = 0 };
	CHECK(env, napi_create_array(env, &list.array));
	if (proc_cgroups(pid, add_cgroup, &list) < 0) {
		CHECK(env, napi_get_undefined(env, &result));
		return result;
	}
	CHECK(env, list.failed ? napi_generic_failure : napi_ok);
	return list.array;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */)
{
	static const struct {
		const char *name;
		napi_callback fn;
	} functions[] = {
		{ "status", js_status },
		{ "startTime", js_start_time },
		{ "sameAlive", js_same_alive },
		{ "cgroups", js_cgroups },
	};
	for (size_t i = 0; i < sizeof functions / sizeof *functions; i++) {
		napi_value fn;
		if (napi_create_function(env, functions[i].name, NAPI_AUTO_LENGTH, functions[i].fn, NULL, &fn) != napi_ok ||
		    napi_set_named_property(env, exports, functions[i].name, fn) != napi_ok)
			return NULL;
	}
	return exports;
}
