// The node driver's tool runner: whatever a tool does with its input, pxoci gets a result, never a crash.
import t from 'tap';
import { run } from '../src/runtime/node-driver.js';

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
