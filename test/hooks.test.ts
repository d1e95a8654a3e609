// The pure side of hooks: the state JSON each hook reads, and what pxoci's init receives for the
// startContainer hooks.
import t from 'tap';
import { hookState, stateAroundPid } from '../src/oci/hooks.js';
import { encodeInitSpec } from '../src/oci/initspec.js';
import { translate } from '../src/oci/translate.js';
import { validateSpec } from '../src/oci/bundle.js';

t.test("state JSON: runc's keys and order; no pid once stopped", async (t) => {
  const c = { id: 'c1', bundle: '/b "quoted"', annotations: { '"pid":1': 'x' } };
  t.equal(JSON.stringify(hookState(c, 'creating', 42)), '{"ociVersion":"1.2.0","id":"c1","status":"creating","pid":42,"bundle":"/b \\"quoted\\"","annotations":{"\\"pid\\":1":"x"}}');
  t.same(hookState({ id: 'c1', bundle: '/b', annotations: {} }, 'stopped', 42), { ociVersion: '1.2.0', id: 'c1', status: 'stopped', bundle: '/b' });
  const [head, tail] = stateAroundPid(hookState(c, 'created', 1));
  t.same(JSON.parse(`${head}7${tail}`), hookState(c, 'created', 7), 'the init inserts its pid into valid JSON');
});

t.test('startContainer hooks reach the init spec in order, other hooks do not', async (t) => {
  const spec = validateSpec({
    ociVersion: '1.2.0',
    process: { args: ['sh'], cwd: '/' },
    root: { path: 'rootfs' },
    hooks: {
      startContainer: [{ path: '/sbin/ldconfig' }, { path: '/bin/sh', args: ['sh', '-c', 'x'], env: ['A=1'], timeout: 3 }],
      prestart: [{ path: '/host/hook' }],
    },
  });
  const { init } = translate(spec, { id: 'c1', bundle: '/b', vmid: 100, runtimeDir: '/run/ct', arch: 'amd64', rootfs: '/b/rootfs' });
  const records = encodeInitSpec(init).toString('utf8').split('\0');
  const from = records.indexOf('statehead');
  t.same(records.slice(from), [
    'statehead', '{"ociVersion":"1.2.0","id":"c1","status":"created","pid":', 'statetail', ',"bundle":"/b"}',
    'hook', '/sbin/ldconfig', 'hookarg', '/sbin/ldconfig',
    'hook', '/bin/sh', 'hookarg', 'sh', 'hookarg', '-c', 'hookarg', 'x', 'hookenv', 'A=1', 'hooktimeout', '3', '',
  ]);
  t.notOk(records.includes('/host/hook'), 'prestart runs on the host, not in the CT');
});
