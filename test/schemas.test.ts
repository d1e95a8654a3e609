// schemas/*.json and what is generated from them: the validators accept what engines send, reject
// wrong shapes with a message naming the JSON path, and the committed generated files are current.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateSpec, validateProcess, resolveRootfs } from '../src/oci/bundle.js';
import { validateState } from '../src/oci/generated/validators.js';
import { ConfigError } from '../src/oci/errors.js';
import { defaultSpec } from '../src/commands/spec.js';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');

t.test('runc spec output validates', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pxoci-runc-spec-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = spawnSync('/usr/sbin/runc', ['spec'], { cwd: dir, encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.doesNotThrow(() => validateSpec(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))));
});

t.test("pxoci's own default specs validate", async (t) => {
  t.doesNotThrow(() => validateSpec(defaultSpec(false)));
  t.doesNotThrow(() => validateSpec(defaultSpec(true)));
});

t.test('a real podman config validates', async (t) => {
  t.doesNotThrow(() => validateSpec(JSON.parse(readFileSync(join(top, 'test/fixtures/podman-4.3-run.json'), 'utf8'))));
});

t.test('wrong shapes are rejected with the JSON path and ajv message', async (t) => {
  const base = () => ({ ociVersion: '1.0.2', root: { path: 'rootfs' }, process: { args: ['sh'], cwd: '/' } }) as any;
  const cases: Array<[string, (s: any) => void, string]> = [
    ['args not an array', (s) => (s.process.args = 'sh'), 'config.json: process.args: must be array'],
    ['root missing', (s) => delete s.root, "config.json: (top level): must have required property 'root'"],
    ['ociVersion 2', (s) => (s.ociVersion = '2.0.0'), 'config.json: ociVersion: must match pattern "^1\\.[0-9]+\\.[0-9]+(-.+)?$"'],
    ['mount destination a number', (s) => (s.mounts = [{ destination: '/a' }, { destination: 5 }]), 'config.json: mounts[1].destination: must be string'],
    ['memory limit a string', (s) => (s.linux = { resources: { memory: { limit: '1g' } } }), 'config.json: linux.resources.memory.limit: must be integer'],
    ['unknown namespace type', (s) => (s.linux = { namespaces: [{ type: 'net' }] }), 'config.json: linux.namespaces[0].type: must be equal to one of the allowed values: pid, network, mount, ipc, uts, user, cgroup, time'],
    ['unknown field', (s) => (s.linux = { bogus: true }), 'config.json: linux.bogus: unknown field (not in the OCI runtime spec)'],
    ['uid negative', (s) => (s.process.user = { uid: -1, gid: 0 }), 'config.json: process.user.uid: must be >= 0'],
    ['not an object', () => {}, ''],
  ];
  for (const [name, patch, message] of cases) {
    if (!message) {
      t.throws(() => validateSpec('{}'), { message: 'config.json: (top level): must be object' }, 'a string');
      continue;
    }
    const s = base();
    patch(s);
    try {
      validateSpec(s);
      t.fail(`${name}: accepted`);
    } catch (e) {
      t.type(e, ConfigError, name);
      t.equal((e as Error).message, message, name);
    }
  }
});

t.test("unknown properties are reported and dropped, as the spec's Extensibility wants; shape errors still fail", async (t) => {
  const seen: string[] = [];
  const spec = validateSpec(
    { ociVersion: '1.0.2', root: { path: 'rootfs', future: 1 }, 'org.example': {}, linux: { bogus: true, namespaces: [{ type: 'pid', extra: 'x' }] } },
    (field) => seen.push(field),
  );
  t.same(seen.sort(), ['config.json: linux.bogus', 'config.json: linux.namespaces[0].extra', 'config.json: org.example', 'config.json: root.future']);
  t.same(spec, { ociVersion: '1.0.2', root: { path: 'rootfs' }, linux: { namespaces: [{ type: 'pid' }] } });
  t.throws(() => validateSpec({ ociVersion: '1.0.2', root: { path: 'r' }, bogus: 1, process: { args: 'sh', cwd: '/' } }, () => {}), {
    message: 'config.json: process.args: must be array',
  });
  const process: string[] = [];
  t.same(validateProcess({ args: ['ls'], cwd: '/', later: true }, (f) => process.push(f)), { args: ['ls'], cwd: '/' });
  t.same(process, ['process: later']);
});

t.test('process.json for exec has its own prefix', async (t) => {
  t.doesNotThrow(() => validateProcess({ args: ['ls'], cwd: '/' }));
  t.throws(() => validateProcess({ args: ['ls'] }), { message: "process: (top level): must have required property 'cwd'" });
});

t.test('state schema', async (t) => {
  const state = { ociVersion: '1.2.0', id: 'x', status: 'created', pid: 42, bundle: '/b', annotations: { a: 'b' } };
  t.ok(validateState(state));
  t.notOk(validateState({ ...state, status: 'exploded' }));
  t.notOk(validateState({ ...state, pid: 'x' }));
});

t.test('rootfs: relative to the bundle, or absolute', async (t) => {
  t.equal(resolveRootfs('/b', validateSpec({ ociVersion: '1.0.0', root: { path: 'rootfs' } })), '/b/rootfs');
  t.equal(resolveRootfs('/b', validateSpec({ ociVersion: '1.0.0', root: { path: '/abs/r' } })), '/abs/r');
});

t.test('generated validators and types are what scripts/gen-schemas.mjs makes from schemas/', async (t) => {
  const r = spawnSync(process.execPath, [join(top, 'scripts/gen-schemas.mjs'), '--check'], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
});
