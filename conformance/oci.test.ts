// Runtime-agnostic OCI conformance checks, each observed from INSIDE the container.
//   RUNTIME=/usr/sbin/runc npx tap conformance/oci.test.ts      (runc, on the host)
//   npx tap conformance/oci.test.ts                              (pxoci on a simulated PVE node)
// The same checks pass on runc: that is the proof they test something real.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeBundle } from '../test/helpers/env.js';
import { argv0, env, runInside, runtime, runtimeName, runtimeArgs, sleep, work } from './harness.js';

t.test('lifecycle MUSTs: created before start, process not run, state fields, stopped after exit', async (t) => {
  const id = `conf-${runtimeName}-life`;
  const bundle = makeBundle(work, id, { args: ['sh', '-c', 'touch /ran'] });
  // The container inherits create's stdio: give it a file, not a pipe spawnSync would wait on.
  const errFile = join(work, `${id}.stderr`);
  const errFd = openSync(errFile, 'w');
  const c = spawnSync(argv0[0]!, runtimeArgs(['create', '--bundle', bundle, id]), {
    env,
    stdio: ['ignore', 'ignore', errFd],
  });
  closeSync(errFd);
  t.equal(c.status, 0, readFileSync(errFile, 'utf8'));
  const created = JSON.parse(runtime(['state', id]).stdout);
  t.equal(created.status, 'created');
  t.equal(created.id, id);
  t.equal(created.bundle, bundle);
  t.ok(created.pid > 0);
  t.match(created.ociVersion, /^1\./);
  t.notOk(existsSync(join(bundle, 'rootfs/ran')), 'process not run before start');
  t.equal(runtime(['start', id]).status, 0);
  for (let i = 0; i < 100 && JSON.parse(runtime(['state', id]).stdout).status !== 'stopped'; i++) await sleep(50);
  t.equal(JSON.parse(runtime(['state', id]).stdout).status, 'stopped');
  t.ok(existsSync(join(bundle, 'rootfs/ran')), 'process ran after start');
  t.equal(runtime(['delete', id]).status, 0);
  t.not(runtime(['state', id]).status, 0, 'state of a deleted container fails');
});

t.test('process: args, env, cwd, user are applied', async (t) => {
  const r = await runInside({
    args: ['sh', '-c', 'echo "$FOO|$(pwd)|$(id -u):$(id -g)|$(id -G)"'],
    env: ['PATH=/bin', 'FOO=bar baz'],
    cwd: '/tmp',
    patch: (s) => {
      s.process.user = { uid: 1, gid: 1, additionalGids: [100] };
    },
  });
  t.equal(r.stdout, 'bar baz|/tmp|1:1|1 100\n', r.createError ?? r.stderr);
});

t.test('hostname is applied', async (t) => {
  const r = await runInside({ args: ['hostname'], patch: (s) => (s.hostname = 'conf-host') });
  t.equal(r.stdout, 'conf-host\n', r.createError ?? r.stderr);
});

t.test('rlimits are applied', async (t) => {
  const r = await runInside({
    args: ['sh', '-c', 'grep "Max open files" /proc/self/limits'],
    patch: (s) => (s.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1234, hard: 2345 }]),
  });
  t.match(r.stdout, /Max open files\s+1234\s+2345\s+files/, r.createError ?? r.stderr);
});

t.test('noNewPrivileges is applied', async (t) => {
  const r = await runInside({
    args: ['sh', '-c', 'grep NoNewPrivs /proc/self/status'],
    patch: (s) => (s.process.noNewPrivileges = true),
  });
  t.match(r.stdout, /NoNewPrivs:\s+1/, r.createError ?? r.stderr);
});

t.test('capabilities: the effective set is exactly what was asked', async (t) => {
  const caps = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  const r = await runInside({
    args: ['sh', '-c', 'grep CapBnd /proc/self/status'],
    patch: (s) => (s.process.capabilities = { bounding: caps, effective: caps, permitted: caps }),
  });
  // CHOWN=0, KILL=5, NET_BIND_SERVICE=10 → bits 0x421
  t.match(r.stdout, /CapBnd:\s+0000000000000421/, r.createError ?? r.stderr);
});

t.test('read-only root', async (t) => {
  const r = await runInside({
    args: ['sh', '-c', 'touch /x 2>/dev/null && echo writable || echo readonly'],
    patch: (s) => (s.root.readonly = true),
  });
  t.equal(r.stdout, 'readonly\n', r.createError ?? r.stderr);
});

t.test('bind mount with ro, and tmpfs', async (t) => {
  const host = mkdtempSync(join(work, 'bind-'));
  writeFileSync(join(host, 'file'), 'from-host\n');
  const r = await runInside({
    args: ['sh', '-c', 'cat /data/file; touch /data/new 2>/dev/null && echo rw || echo ro; grep " /scratch " /proc/self/mountinfo | grep -c tmpfs'],
    patch: (s) => {
      s.mounts.push(
        { destination: '/data', type: 'bind', source: host, options: ['rbind', 'ro'] },
        { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m'] },
      );
    },
  });
  t.equal(r.stdout, 'from-host\nro\n1\n', r.createError ?? r.stderr);
});

t.test('stdout and stderr reach the caller separately', async (t) => {
  const r = await runInside({ args: ['sh', '-c', 'echo out; echo err >&2'] });
  t.equal(r.stdout, 'out\n');
  t.equal(r.stderr, 'err\n');
});

t.test('capabilities: a non-root process gets exactly the sets asked, ambient surviving exec', async (t) => {
  const bind = ['CAP_NET_BIND_SERVICE'];
  const r = await runInside({
    args: ['sh', '-c', 'grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb)" /proc/self/status'],
    patch: (s) => {
      s.process.user = { uid: 1000, gid: 1000 };
      s.process.capabilities = { bounding: ['CAP_NET_BIND_SERVICE', 'CAP_KILL'], effective: bind, permitted: bind, inheritable: bind, ambient: bind };
    },
  });
  // NET_BIND_SERVICE = 10 (0x400), KILL = 5 (0x20)
  t.equal(
    r.stdout,
    'CapInh:\t0000000000000400\nCapPrm:\t0000000000000400\nCapEff:\t0000000000000400\nCapBnd:\t0000000000000420\nCapAmb:\t0000000000000400\n',
    r.createError ?? r.stderr,
  );
});

t.test('capabilities: without ambient, a non-root process ends with none after exec', async (t) => {
  const caps = ['CAP_CHOWN', 'CAP_KILL'];
  const r = await runInside({
    args: ['sh', '-c', 'grep -E "^Cap(Prm|Eff|Bnd)" /proc/self/status'],
    patch: (s) => {
      s.process.user = { uid: 1000, gid: 1000 };
      s.process.capabilities = { bounding: caps, effective: caps, permitted: caps };
    },
  });
  t.equal(r.stdout, 'CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000021\n', r.createError ?? r.stderr);
});
