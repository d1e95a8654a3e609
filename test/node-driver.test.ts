// The node driver's tool runner: whatever a tool does with its input, pxoci gets a result, never a crash.
import t from 'tap';
import { run, startError } from '../src/runtime/node-driver.js';

t.test('a tool that exits without reading its input: a result, no EPIPE crash', async (t) => {
  // More than a pipe holds: the write is still going when the tool has exited and closed the pipe.
  const r = await run('/bin/true', [], 'x'.repeat(4 << 20));
  t.equal(r.code, 0);
  t.equal(r.signal, null);
});

t.test('a tool that reads its input and fails: its code and output', async (t) => {
  const r = await run('/bin/sh', ['-c', 'wc -c; echo oops >&2; exit 3'], 'abc');
  t.equal(r.code, 3);
  t.equal(r.stdout.trim(), '3');
  t.equal(r.stderr, 'oops\n');
});

t.test('a tool that is not there: 127 and the reason', async (t) => {
  const r = await run('/nonexistent/tool', []);
  t.equal(r.code, 127);
  t.match(r.stderr, /ENOENT/);
});

t.test("a failed pct start is reported by LXC's cause, not by the lines that follow any failure", async (t) => {
  // What pct start prints on a PVE node: the lines of /run/pve/ct-<vmid>.stderr, prefixes stripped.
  const stderr = [
    'lxc_map_ids: 3701 newuidmap failed to write mapping "newuidmap: uid range [0-65536) -> [500000-565536) not allowed": newuidmap 4242 0 500000 65536',
    'lxc_spawn: 1788 Failed to set up id mapping.',
    '__lxc_start: 2107 Failed to spawn container "100"',
    'wait_on_daemonized_start: 878 Received container state "ABORTING" instead of "RUNNING"',
    'main: 306 The container failed to start',
    'main: 309 To get more details, run the container in foreground mode',
    'main: 311 Additional information can be obtained by setting the --logfile and --logpriority options',
    "startup for container '100' failed",
  ].join('\n');
  t.equal(
    startError({ code: 255, signal: null, stdout: '', stderr: stderr + '\n' }),
    'lxc_map_ids: 3701 newuidmap failed to write mapping "newuidmap: uid range [0-65536) -> [500000-565536) not allowed": newuidmap 4242 0 500000 65536; lxc_spawn: 1788 Failed to set up id mapping.',
  );
  // Nothing but the aftermath: all of it, rather than nothing.
  const bare = "wait_on_daemonized_start: 878 Received container state \"ABORTING\" instead of \"RUNNING\"\nstartup for container '100' failed\n";
  t.equal(startError({ code: 255, signal: null, stdout: '', stderr: bare }), bare.trim().split('\n').join('; '));
});
