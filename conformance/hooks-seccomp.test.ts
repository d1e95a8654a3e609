// Seccomp and hooks, observed from INSIDE the container and from the hooks themselves.
//   RUNTIME=/usr/sbin/runc npx tap conformance/hooks-seccomp.test.ts   (runc, on the host)
//   npx tap conformance/hooks-seccomp.test.ts                           (pxoci on a simulated PVE node)
// Where pxoci differs from runc (or runc 1.1 from the spec), the check says so by name.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeBundle, top } from '../test/helpers/env.js';
import { processesMentioning } from '../test/helpers/node-checks.js';
import { sleep } from '../test/helpers/wait.js';
import { check, createOnPipes, isPxoci, runInside, runtime, runtimeName, runtimePath, waitStopped, work } from './harness.js';

// runc 1.1 runs poststart hooks inside `create` (fixed in runc 1.2) and stops at the first failing
// poststop hook; the spec (and pxoci) run poststart in `start` and every poststop hook.
const runcVersion = runtimePath ? /runc version (\d+)\.(\d+)/.exec(spawnSync(runtimePath, ['--version'], { encoding: 'utf8' }).stdout) : null;
const legacyRunc = runcVersion !== null && Number(runcVersion[1]) === 1 && Number(runcVersion[2]) < 2;
// A hook that sleeps for this long (an odd value no other process uses), killed at its 1 s timeout.
const HOOK_SLEEP = '599.7';
const abis = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];
const ns = (kind: string) => spawnSync('readlink', [`/proc/self/ns/${kind}`], { encoding: 'utf8' }).stdout.trim();

check('seccomp: a syscall the profile denies fails with the chosen errno inside the container', ['linux.seccomp'], async (t, ck) => {
  const r = await runInside({
    args: ['sh', '-c', 'mkdir /denied; echo "mkdir=$?"; touch /allowed && echo touch=ok'],
    patch: (s) => {
      s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: abis, syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 122 }] };
    },
  });
  t.equal(r.stdout, 'mkdir=1\ntouch=ok\n', r.createError ?? r.stderr);
  t.match(r.stderr, /Disk quota exceeded/, 'errno 122 (EDQUOT), not a default EPERM');
});

check("seccomp: podman's real default profile binds the process, and the container still starts", ['linux.seccomp'], async (t, ck) => {
  const podman = JSON.parse(readFileSync(join(top, 'test/fixtures/podman-4.3-run.json'), 'utf8'));
  const caps = ['CAP_SYS_ADMIN', 'CAP_SETUID', 'CAP_SETGID', 'CAP_KILL'];
  const run = (seccomp?: unknown) =>
    runInside({
      args: ['sh', '-c', 'grep "^Seccomp:" /proc/self/status; hostname changed 2>&1; hostname'],
      patch: (s) => {
        s.process.capabilities = { bounding: caps, effective: caps, permitted: caps };
        if (seccomp) s.linux.seccomp = seccomp;
      },
    });
  // With CAP_SYS_ADMIN, only the profile (sethostname → EPERM) stops the change.
  const control = await run();
  t.match(control.stdout, /\nchanged\n$/, `without the profile sethostname works: ${control.createError ?? control.stderr}`);
  const r = await run(podman.linux.seccomp);
  t.match(r.stdout, /^Seccomp:\s+2\n/, r.createError ?? r.stderr);
  t.match(r.stdout, /Operation not permitted\npxoci-test\n$/, 'sethostname denied by the profile, hostname unchanged');
});

/** A hook that appends "<name> <net ns> <mnt ns> <state JSON>" to a log on the host. */
function hookScript(log: string): string {
  const path = join(work, 'hook.sh');
  writeFileSync(path, `#!/bin/sh\nstate=$(cat)\necho "$1 $(readlink /proc/self/ns/net) $(readlink /proc/self/ns/mnt) $state" >> '${log}'\nexit "\${2:-0}"\n`);
  chmodSync(path, 0o755);
  return path;
}

interface Entry {
  name: string;
  net: string;
  mnt: string;
  state: { ociVersion: string; id: string; status: string; pid?: number; bundle: string; annotations?: Record<string, string> };
}
const readLog = (log: string): Entry[] =>
  existsSync(log)
    ? readFileSync(log, 'utf8').trim().split('\n').map((l) => {
        const [name, net, mnt, ...json] = l.split(' ');
        return { name: name!, net: net!, mnt: mnt!, state: JSON.parse(json.join(' ')) };
      })
    : [];

check('hooks: order, namespaces and the state each receives on stdin', ['hooks.prestart, createRuntime', 'hooks.createContainer', 'hooks.startContainer', 'hooks.poststart', 'hooks.poststop'], async (t, ck) => {
  const log = join(work, 'hooks.log');
  const hook = hookScript(log);
  const id = `hooks-${runtimeName}`;
  const h = (name: string) => [{ path: hook, args: ['hook.sh', name] }];
  const bundle = makeBundle(work, id, {
    args: ['sh', '-c', 'echo "pid=$$ net=$(readlink /proc/self/ns/net) mnt=$(readlink /proc/self/ns/mnt)"; cat /start-hook'],
    patch: (s) => {
      s.annotations = { 'org.example/hooks': 'yes' };
      s.hooks = {
        prestart: h('prestart'),
        createRuntime: h('createRuntime'),
        createContainer: h('createContainer'),
        // Resolved and run inside the container, right before the process: it leaves its stdin and
        // its parent's pid (the container process, about to exec) in the container's root.
        startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo "$(cat) ppid=$PPID" > /start-hook'] }],
        poststart: h('poststart'),
        poststop: h('poststop'),
      };
    },
  });
  const c = createOnPipes(id, bundle);
  t.equal(await c.exited, 0, c.err());
  const created = JSON.parse(runtime(['state', id]).stdout);
  const afterCreate = readLog(log).map((e) => e.name);
  t.same(afterCreate, ['prestart', 'createRuntime', 'createContainer', ...(legacyRunc ? ['poststart'] : [])], legacyRunc ? 'runc 1.1 runs poststart in create' : 'create runs the create-time hooks only');
  t.equal(runtime(['start', id]).status, 0);
  await Promise.race([c.closed, sleep(30_000)]);
  await waitStopped(id);
  t.equal(runtime(['delete', id]).status, 0);
  const entries = readLog(log);
  t.same(entries.map((e) => e.name), [...afterCreate, ...(legacyRunc ? [] : ['poststart']), 'poststop']);

  const m = /^pid=(\d+) net=(\S+) mnt=(\S+)\n(\{.*\}) ppid=(\d+)\n$/.exec(c.out());
  t.ok(m, `container output: ${c.out()} ${c.err()}`);
  if (!m) return;
  const [, inPid, ctNet, ctMnt, startJson, startPpid] = m;
  const byName = Object.fromEntries(entries.map((e) => [e.name, e]));
  for (const e of entries) {
    t.equal(e.state.id, id, `${e.name}: id`);
    t.equal(e.state.bundle, bundle, `${e.name}: bundle`);
    t.same(e.state.annotations, { 'org.example/hooks': 'yes' }, `${e.name}: annotations`);
    t.match(e.state.ociVersion, /^1\./, `${e.name}: ociVersion`);
  }
  for (const name of ['prestart', 'createRuntime']) {
    t.equal(byName[name]!.state.status, 'creating', `${name}: status`);
    t.equal(byName[name]!.state.pid, created.pid, `${name}: pid is the container process's, as the runtime sees it`);
    t.equal(byName[name]!.net, ns('net'), `${name}: runs in the runtime's network namespace`);
  }
  const cc = byName.createContainer!;
  t.equal(cc.state.status, 'creating', 'createContainer: status');
  t.equal(cc.state.pid, Number(inPid), "createContainer: pid as the container sees it (runc: its init is the process, pid 1; pxoci: the process is its init's child)");
  t.equal(cc.net, ctNet, "createContainer: runs in the container's network namespace");
  if (isPxoci) ck.differ('createcontainer-host-mount-namespace');
  if (legacyRunc) ck.differ('runc-1.1-poststart-in-create');
  if (isPxoci) t.equal(cc.mnt, ns('mnt'), "pxoci: createContainer keeps the host's mount namespace (LXC has pivoted already; the rootfs is at root.path only there)");
  else t.equal(cc.mnt, ctMnt, "runc: createContainer runs in the container's mount namespace, before pivot_root");
  const start = JSON.parse(startJson!);
  t.equal(start.status, 'created', 'startContainer: status');
  t.equal(start.pid, Number(inPid), 'startContainer: pid as the container sees it, the process that then execs');
  t.equal(Number(startPpid), Number(inPid), "startContainer: run by the container process itself, in the container");
  t.equal(start.id, id);
  const ps = byName.poststart!;
  t.equal(ps.state.status, legacyRunc ? 'created' : 'running', legacyRunc ? 'runc 1.1: poststart (run in create) sees created' : 'poststart: status running');
  t.equal(ps.state.pid, created.pid, 'poststart: pid');
  t.equal(ps.net, ns('net'), 'poststart: runtime namespace');
  const stop = byName.poststop!;
  t.equal(stop.state.status, 'stopped', 'poststop: status');
  t.notOk('pid' in stop.state, 'poststop: a stopped container has no pid');
  t.equal(stop.net, ns('net'), 'poststop: runtime namespace');
});

check('hooks: a failing prestart fails create, leaves nothing behind, and poststop still runs', ['hooks.prestart, createRuntime', 'hooks.poststop'], async (t, ck) => {
  const log = join(work, 'prestart-fail.log');
  const hook = hookScript(log);
  const id = `hooks-fail-${runtimeName}`;
  const bundle = makeBundle(work, id, {
    args: ['sh', '-c', 'touch /ran'],
    patch: (s) => {
      s.hooks = { prestart: [{ path: hook, args: ['hook.sh', 'prestart', '3'] }], poststop: [{ path: hook, args: ['hook.sh', 'poststop'] }] };
    },
  });
  const c = createOnPipes(id, bundle);
  t.not(await c.exited, 0, 'create fails');
  t.match(c.err(), /hook/, `the error names the hook: ${c.err()}`);
  t.match(c.err(), /exit status 3/);
  t.not(runtime(['state', id]).status, 0, 'no container left');
  t.notOk(runtime(['list']).stdout.includes(id), 'not listed');
  t.notOk(existsSync(join(bundle, 'rootfs/ran')), 'the process never ran');
  t.same(readLog(log).map((e) => e.name), ['prestart', 'poststop']);
});

check("hooks: env replaces the runtime's environment; a timeout kills the hook and fails create", ['hooks.prestart, createRuntime'], async (t, ck) => {
  const out = join(work, 'env-hook.out');
  const envHook = join(work, 'env-hook.sh');
  writeFileSync(envHook, `#!/bin/sh\necho "FOO=$FOO HOME=$HOME" > '${out}'\n`);
  chmodSync(envHook, 0o755);
  const id = `hooks-env-${runtimeName}`;
  const bundle = makeBundle(work, id, {
    args: ['true'],
    patch: (s) => (s.hooks = { createRuntime: [{ path: envHook, env: ['FOO=bar'] }, { path: '/bin/sleep', args: ['sleep', HOOK_SLEEP], timeout: 1 }] }),
  });
  const started = Date.now();
  const c = createOnPipes(id, bundle);
  t.not(await c.exited, 0, 'create fails');
  // Far below the hook's own 600 s and free of the machine's load: a create that waited for the hook
  // would still be waiting.
  t.ok(Date.now() - started < 300_000, 'the hook was killed at its timeout, not waited for');
  t.same(processesMentioning(`sleep\0${HOOK_SLEEP}`), [], 'the timed-out hook is gone');
  t.match(c.err(), /timeout/, c.err());
  t.equal(readFileSync(out, 'utf8'), 'FOO=bar HOME=\n', 'only the given env');
  t.not(runtime(['state', id]).status, 0, 'no container left');
});

check('hooks: a failing startContainer hook keeps the process from running', ['hooks.startContainer'], async (t, ck) => {
  const id = `hooks-start-fail-${runtimeName}`;
  const bundle = makeBundle(work, id, {
    args: ['sh', '-c', 'echo ran'],
    patch: (s) => (s.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo start-hook-says-no; exit 5'] }] }),
  });
  const c = createOnPipes(id, bundle);
  t.equal(await c.exited, 0, c.err());
  const start = runtime(['start', id]);
  if (isPxoci) {
    t.not(start.status, 0, 'start fails (runtime-spec: a failing startContainer hook is an error)');
    t.match(start.stderr, /startContainer hook #0 \(\/bin\/sh\): exit status 5, output: start-hook-says-no/, 'start names the hook and its output');
  } else {
    // runc releases the process before its init runs the hooks: its start has already succeeded.
    if (legacyRunc) ck.differ('runc-1.1-start-before-startcontainer');
    t.equal(start.status, 0, 'runc: start succeeds, the error only reaches the container stderr');
  }
  await Promise.race([c.closed, sleep(30_000)]);
  await waitStopped(id);
  t.equal(c.out(), '', 'the process did not run');
  t.match(c.err(), /exit status 5.*start-hook-says-no/s, "the hook failure reaches the container's stderr with its output");
  t.equal(JSON.parse(runtime(['state', id]).stdout).status, 'stopped');
  t.equal(runtime(['delete', id]).status, 0);
});

check('hooks: a failing poststop hook is a warning; delete completes', ['hooks.poststop'], async (t, ck) => {
  const log = join(work, 'poststop-fail.log');
  const hook = hookScript(log);
  const id = `hooks-poststop-${runtimeName}`;
  const bundle = makeBundle(work, id, {
    args: ['true'],
    patch: (s) => (s.hooks = { poststop: [{ path: hook, args: ['hook.sh', 'first', '6'] }, { path: hook, args: ['hook.sh', 'second'] }] }),
  });
  const c = createOnPipes(id, bundle);
  t.equal(await c.exited, 0, c.err());
  t.equal(runtime(['start', id]).status, 0);
  await Promise.race([c.closed, sleep(30_000)]);
  await waitStopped(id);
  const d = runtime(['delete', id]);
  t.equal(d.status, 0, 'delete succeeds');
  t.match(d.stderr, /exit status 6/, 'the failure is reported');
  t.not(runtime(['state', id]).status, 0, 'the container is gone');
  if (legacyRunc) ck.differ('runc-1.1-poststop-stops-at-failure');
  t.same(readLog(log).map((e) => e.name), legacyRunc ? ['first'] : ['first', 'second'], legacyRunc ? 'runc 1.1 stops at the first failing poststop hook' : 'the remaining poststop hooks run');
});
