// The runc lifecycle on the simulated PVE node, driven as engines drive it: separate processes,
// caller pipes as stdio, a child subreaper reaping the pid-file process.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createWithPipes,
  makeBundle,
  pxoci,
  pxociBin,
  startSimNode,
  subreaper,
  type SimNode,
} from './helpers/env.js';
import { confText, ctConfigs, hostBoundingGap, mountsUnder } from './helpers/node-checks.js';
import { waitUntil } from './helpers/wait.js';

const node: SimNode = startSimNode('lifecycle');
t.teardown(() => node.down());
const work = mkdtempSync(join(tmpdir(), 'pxoci-lifecycle-'));
// A user-namespaced container's root (host uid 100000) must be able to reach its bundle.
chmodSync(work, 0o755);

function state(id: string) {
  const r = pxoci(node, ['state', id]);
  if (r.status !== 0) throw new Error(`state ${id}: ${r.stderr}`);
  return JSON.parse(r.stdout) as { status: string; pid: number; id: string; bundle: string };
}

/** create under a subreaper (as conmon), start, and report how the pid-file process ended. */
async function runToExit(id: string, bundle: string, afterStart?: () => void) {
  const pidFile = join(work, `${id}.pid`);
  const statusFile = join(work, `${id}.status`);
  const child = spawn(
    subreaper(),
    [statusFile, pidFile, pxociBin, '--root', node.stateRoot, 'create', '--bundle', bundle, '--pid-file', pidFile, id],
    { env: node.env, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await waitUntil(() => existsSync(pidFile) || existsSync(statusFile));
  const pidText = existsSync(pidFile) ? readFileSync(pidFile, 'utf8') : '';
  const created = existsSync(statusFile) ? undefined : state(id);
  const outputBeforeStart = stdout;
  if (created) {
    const s = pxoci(node, ['start', id]);
    if (s.status !== 0) throw new Error(`start: ${s.stderr}`);
    afterStart?.();
  }
  await done;
  return { status: readFileSync(statusFile, 'utf8').trim(), stdout, stderr, pidText, created, outputBeforeStart };
}

t.test('create → created, start runs the process with the caller stdio, exit code reaches the reaper', async (t) => {
  const bundle = makeBundle(work, 'exit7', {
    args: ['sh', '-c', 'touch /ran; echo "out $(hostname)"; echo err >&2; exit 7'],
  });
  const r = await runToExit('exit7', bundle);
  t.match(r.pidText, /^\d+$/, 'pid-file is digits only, no newline');
  t.equal(r.created?.status, 'created');
  t.ok(r.created!.pid > 0, 'created state has a pid');
  t.equal(r.outputBeforeStart, '', 'nothing ran and nothing printed before start');
  t.equal(r.status, '7', 'the reaper sees exit code 7');
  t.equal(r.stdout, 'out pxoci-test\n', 'stdout reached the caller pipe');
  t.equal(r.stderr, 'err\n', 'stderr reached the caller pipe');
  t.ok(existsSync(join(bundle, 'rootfs/ran')), 'process.args ran after start');
  const s = state('exit7');
  t.equal(s.status, 'stopped');
  t.equal(s.pid, 0);
  t.equal(s.bundle, bundle);
  t.equal(pxoci(node, ['delete', 'exit7']).status, 0);
  t.same(ctConfigs(node), [], 'the CT config is gone');
  t.equal(pxoci(node, ['state', 'exit7']).stderr, 'container does not exist\n');
});

t.test('death by SIGKILL shows as 137; kill accepts names and numbers', async (t) => {
  const bundle = makeBundle(work, 'killed', { args: ['sleep', '1000'] });
  const r = await runToExit('killed', bundle, () => {
    t.equal(state('killed').status, 'running');
    const k = pxoci(node, ['kill', 'killed', 'KILL']);
    t.equal(k.status, 0, k.stderr);
  });
  t.equal(r.status, '137');
  t.equal(pxoci(node, ['delete', 'killed']).status, 0);

  const trap = makeBundle(work, 'term', { args: ['sh', '-c', 'trap "exit 42" TERM; while :; do sleep 0.1; done'] });
  const r2 = await runToExit('term', trap, () => {
    t.equal(pxoci(node, ['kill', 'term', 'sigterm']).status, 0);
  });
  t.equal(r2.status, '42', 'SIGTERM was delivered by name and trapped');
  t.equal(pxoci(node, ['kill', 'term', '15']).stderr, 'container not running\n');
  t.equal(pxoci(node, ['delete', 'term']).status, 0);
});

t.test('state transitions and runc error texts', async (t) => {
  const bundle = makeBundle(work, 'states', { args: ['sleep', '1000'] });
  const c = createWithPipes(node, 'states', bundle);
  t.equal(await c.exited, 0, c.err());
  t.equal(state('states').status, 'created');
  t.equal(pxoci(node, ['create', '--bundle', bundle, 'states']).stderr, 'container with given ID already exists\n');
  t.equal(pxoci(node, ['kill', 'states', 'NOPE']).stderr, 'unknown signal "NOPE"\n');
  t.equal(pxoci(node, ['start', 'states']).status, 0);
  t.equal(state('states').status, 'running');
  t.equal(pxoci(node, ['start', 'states']).stderr, 'cannot start an already running container\n');
  const d = pxoci(node, ['delete', 'states']);
  t.equal(d.status, 1);
  t.equal(d.stderr, 'cannot delete container states that is not stopped: running\n');
  const list = JSON.parse(pxoci(node, ['list', '--format', 'json']).stdout) as Array<{ id: string; status: string }>;
  t.same(list.map((s) => [s.id, s.status]), [['states', 'running']]);
  t.equal(pxoci(node, ['delete', '--force', 'states']).status, 0);
  t.same(ctConfigs(node), []);
  await c.closed;
  t.equal(pxoci(node, ['start', 'states']).stderr, 'container does not exist\n');
});

t.test('a created container is deleted without --force; start after a kill says it has stopped', async (t) => {
  const bundle = makeBundle(work, 'created', { args: ['sleep', '1000'] });
  const c = createWithPipes(node, 'created', bundle);
  t.equal(await c.exited, 0, c.err());
  t.equal(pxoci(node, ['delete', 'created']).status, 0);
  t.same(ctConfigs(node), []);

  const c2 = createWithPipes(node, 'killed-created', bundle);
  t.equal(await c2.exited, 0, c2.err());
  t.equal(pxoci(node, ['kill', 'killed-created', '9']).status, 0);
  await waitUntil(() => state('killed-created').status === 'stopped');
  t.equal(pxoci(node, ['start', 'killed-created']).stderr, 'cannot start a container that has stopped\n');
  t.equal(pxoci(node, ['delete', 'killed-created']).status, 0);
});

t.test('unknown ids and bad ids', async (t) => {
  for (const cmd of [['state'], ['start'], ['kill'], ['delete']]) {
    const r = pxoci(node, [...cmd, 'nope']);
    t.equal(r.status, 1, `${cmd[0]} exit code`);
    t.equal(r.stderr, 'container does not exist\n', `${cmd[0]} text`);
  }
  const f = pxoci(node, ['delete', '--force', 'nope']);
  t.equal(f.status, 0);
  t.equal(f.stderr + f.stdout, '');
  t.equal(pxoci(node, ['state', '../etc']).stderr, 'invalid container ID format\n');
});

t.test('a failed create leaves no CT config, no state entry, no mount, and logs one JSON record', async (t) => {
  const log = join(work, 'fail.log');
  const cases: Array<[string, string, RegExp]> = [];
  const missing = makeBundle(work, 'noexec', { args: ['no-such-binary'] });
  cases.push(['noexec', missing, /^exec: "no-such-binary": executable file not found in \$PATH\n$/]);
  const badJson = makeBundle(work, 'badjson');
  writeFileSync(join(badJson, 'config.json'), '{ not json');
  cases.push(['badjson', badJson, /^config\.json: invalid JSON/]);
  const noConfig = join(work, 'empty-bundle');
  cases.push(['noconfig', noConfig, /^open .*config\.json: no such file or directory\n$/]);
  // A config.json that never ends, or never comes, is refused before it is read.
  const endless = makeBundle(work, 'endlessconfig');
  rmSync(join(endless, 'config.json'));
  symlinkSync('/dev/zero', join(endless, 'config.json'));
  cases.push(['endlessconfig', endless, /^config\.json: not a regular file \(a FIFO, device or directory is not read\)\n$/]);
  // runc makes a missing cwd (MkdirAll): only one that cannot be made fails.
  const badCwd = makeBundle(work, 'badcwd', { cwd: '/etc/passwd/sub' });
  cases.push(['badcwd', badCwd, /^mkdir \/etc\/passwd\/sub: not a directory\n$/]);
  // What runc's init checks before it reports ready, the init checks too: create fails, not the process after start.
  const notExecutable = makeBundle(work, 'notexecutable', { args: ['/etc/passwd'] });
  cases.push(['notexecutable', notExecutable, /^exec: "\/etc\/passwd": permission denied\n$/]);
  const forbiddenExecutable = makeBundle(work, 'forbiddenexec', {
    args: ['/bin/busybox', 'true'],
    patch: (s) => (s.process.user = { uid: 1000, gid: 1000 }),
  });
  chmodSync(join(forbiddenExecutable, 'rootfs/bin/busybox'), 0o700);
  cases.push(['forbiddenexec', forbiddenExecutable, /^exec: "\/bin\/busybox": permission denied\n$/]);
  const gap = hostBoundingGap();
  if (gap) {
    const capOutsideNode = makeBundle(work, 'capnode', {
      patch: (s) => (s.process.capabilities = { bounding: [gap], effective: [gap], permitted: [gap] }),
    });
    cases.push(['capnode', capOutsideNode, new RegExp(`^unable to apply caps: process\\.capabilities\\.permitted: ${gap} is outside the capabilities the node gives this CT: operation not permitted\n$`)]);
  }

  // What the node cannot grant is named at create, not left to LXC's "ABORTING".
  const userns = (s: Record<string, any>, uid: Array<Record<string, number>>) => {
    s.linux.namespaces.push({ type: 'user' });
    s.linux.uidMappings = uid;
    s.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  };
  const notSubordinate = makeBundle(work, 'subuid', { patch: (s) => userns(s, [{ containerID: 0, hostID: 900000, size: 65536 }]) });
  cases.push(['subuid', notSubordinate, /^linux\.uidMappings\[0\]: host ids 900000-965535 are not root's subordinate ids in \/etc\/subuid \(.*\), which LXC's newuidmap requires\n$/]);
  const overlapping = makeBundle(work, 'overlap', {
    patch: (s) => userns(s, [{ containerID: 0, hostID: 100000, size: 1000 }, { containerID: 500, hostID: 110000, size: 10 }]),
  });
  cases.push(['overlap', overlapping, /^linux\.uidMappings\[1\]: its containerID range overlaps linux\.uidMappings\[0\]'s/]);
  const offlineCpu = makeBundle(work, 'offlinecpu', { patch: (s) => (s.linux.resources = { cpu: { cpus: '4095' } }) });
  cases.push(['offlinecpu', offlineCpu, /^linux\.resources\.cpu\.cpus: CPU 4095 not online on this node/]);
  const onePid = makeBundle(work, 'onepid', { patch: (s) => (s.linux.resources = { pids: { limit: 1 } }) });
  cases.push(['onepid', onePid, /^linux\.resources\.pids\.limit: 1 leaves no room/]);
  const tooManyFiles = makeBundle(work, 'nropen', { patch: (s) => (s.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 2 ** 31 }]) });
  cases.push(['nropen', tooManyFiles, /^process\.rlimits\[0\]: RLIMIT_NOFILE 2147483648 is above this node's fs\.nr_open/]);
  if (hostBoundingGap() === 'CAP_SYS_RESOURCE') {
    // Our VMs: LXC cannot raise a hard limit above its own. The cause is LXC's own line, not ABORTING.
    const hard = Number(spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout) + 1;
    const aboveOwn = makeBundle(work, 'aboveown', { patch: (s) => (s.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: hard, hard }]) });
    cases.push(['aboveown', aboveOwn, /^pct start \d+ failed: setup_resource_limits: \d+ Operation not permitted - Failed to set limit nofile; lxc_spawn: \d+ Failed to setup resource limits\n$/]);
  }
  // A mount the kernel refuses fails in pxoci's mount hook, inside LXC's start: its message still
  // names the field.
  const badMount = makeBundle(work, 'badmount', { patch: (s) => s.mounts.push({ destination: '/bad', type: 'tmpfs', source: 'tmpfs', options: ['size=lots'] }) });
  cases.push(['badmount', badMount, /^mounts\[\d+\]: cannot mount tmpfs on \/bad: Invalid argument\n$/]);

  for (const [id, bundle, pattern] of cases) {
    const r = pxoci(node, ['--log', log, '--log-format', 'json', 'create', '--bundle', bundle, id]);
    t.equal(r.status, 1, `${id}: exit 1`);
    t.match(r.stderr, pattern, `${id}: message`);
    t.notMatch(r.stderr, /at .*\.js:\d+/, `${id}: no stack trace`);
    t.same(ctConfigs(node), [], `${id}: no CT config`);
    t.notOk(existsSync(join(node.stateRoot, id)), `${id}: no state entry`);
    t.same(mountsUnder(node.root), [], `${id}: no mount`);
    const records = readFileSync(log, 'utf8').trim().split('\n');
    const last = JSON.parse(records[records.length - 1]!) as { level: string; msg: string; time: string };
    t.equal(last.level, 'error');
    t.equal(last.msg + '\n', r.stderr);
    t.match(last.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  }
});

/** A create whose container keeps its stdio until start: on a file, not a pipe spawnSync would wait on. */
function createHoldingNoPipe(args: string[]) {
  const errFile = join(work, `create-${args.at(-1)}.stderr`);
  const errFd = openSync(errFile, 'w');
  const r = spawnSync(pxociBin, ['--root', node.stateRoot, ...args], { env: node.env, stdio: ['ignore', 'ignore', errFd], timeout: 120_000 });
  closeSync(errFd);
  return { status: r.status, stderr: readFileSync(errFile, 'utf8') };
}

t.test("unknown properties are ignored with a warning each (the spec's Extensibility), as runc runs them", async (t) => {
  const extend = (s: Record<string, any>) => {
    s['org.example.extension'] = { on: true };
    s.linux.bogusSetting = 1;
    s.process.user.futureField = 'x';
  };
  const warnings = [
    'config.json: linux.bogusSetting: unknown property (not in the OCI runtime spec pxoci implements): ignored',
    'config.json: org.example.extension: unknown property (not in the OCI runtime spec pxoci implements): ignored',
    'config.json: process.user.futureField: unknown property (not in the OCI runtime spec pxoci implements): ignored',
  ];
  const bundle = makeBundle(work, 'unknown-props', { args: ['true'], patch: extend });

  const runcRoot = mkdtempSync(join(tmpdir(), 'pxoci-lifecycle-runc-'));
  const runc = spawnSync('/usr/sbin/runc', ['--root', runcRoot, 'create', '--bundle', bundle, 'unknown-runc'], { stdio: 'ignore' });
  spawnSync('/usr/sbin/runc', ['--root', runcRoot, 'delete', '--force', 'unknown-runc'], { stdio: 'ignore' });
  t.equal(runc.status, 0, 'runc creates it');

  for (const format of ['json', 'text'] as const) {
    const log = join(work, `unknown-props.${format}.log`);
    const r = createHoldingNoPipe(['--log', log, '--log-format', format, 'create', '--bundle', bundle, `unknown-${format}`]);
    t.equal(r.status, 0, `${format}: create succeeds: ${r.stderr}`);
    t.same(r.stderr.trim().split('\n').sort(), warnings, `${format}: one stderr line per property`);
    const records = readFileSync(log, 'utf8').trim().split('\n');
    t.equal(records.length, 3, `${format}: one record each`);
    if (format === 'json') t.same(records.map((l) => JSON.parse(l).msg).sort(), warnings);
    else t.ok(records.every((l) => / level=warning msg="config\.json: [^"]+: unknown property/.test(l)), records.join('\n'));
    t.equal(state(`unknown-${format}`).status, 'created');
    pxoci(node, ['delete', '--force', `unknown-${format}`]);
  }

  // exec starts from the same config.json (create warned already), or from --process, warned about here.
  const created = createHoldingNoPipe(['create', '--bundle', bundle, 'unknown-exec']);
  t.equal(created.status, 0, created.stderr);
  const fromBundle = pxoci(node, ['exec', 'unknown-exec', 'echo', 'from-bundle']);
  t.same([fromBundle.status, fromBundle.stdout, fromBundle.stderr], [0, 'from-bundle\n', ''], "exec with the bundle's process");
  const processFile = join(work, 'unknown-exec-process.json');
  writeFileSync(processFile, JSON.stringify({ args: ['echo', 'from-process'], cwd: '/', user: { uid: 0, gid: 0 }, futureField: 1 }));
  const fromProcess = pxoci(node, ['exec', '--process', processFile, 'unknown-exec']);
  t.same(
    [fromProcess.status, fromProcess.stdout, fromProcess.stderr],
    [0, 'from-process\n', 'process: futureField: unknown property (not in the OCI runtime spec pxoci implements): ignored\n'],
    'exec --process: the property is ignored, with a warning',
  );
  pxoci(node, ['delete', '--force', 'unknown-exec']);

  // podman reads a failed create's JSON log as ONE object: a warning record before the error would hide it.
  // One refused before any CT exists: the warnings come first, during validation, either way.
  const failing = makeBundle(work, 'unknown-props-failing', { patch: (s) => (extend(s), (s.linux.resources = { pids: { limit: 1 } })) });
  const log = join(work, 'unknown-props-failing.log');
  const r = pxoci(node, ['--log', log, '--log-format', 'json', 'create', '--bundle', failing, 'unknown-failing']);
  t.equal(r.status, 1);
  const lines = r.stderr.trim().split('\n');
  t.same(lines.slice(0, -1).sort(), warnings, 'the warnings still reach stderr');
  t.match(lines.at(-1), /^linux\.resources\.pids\.limit: 1 leaves no room/);
  const parsed = JSON.parse(readFileSync(log, 'utf8')) as { level: string; msg: string };
  t.equal(parsed.level, 'error');
  t.equal(parsed.msg, lines.at(-1));
});

t.test('annotations beyond pmxcfs\' 1 MiB file limit in the state files are kept, as runc keeps them', async (t) => {
  // ~250 KB in all, rendered four times into state.view.
  const annotations = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`org.example.big${i}`, 'x'.repeat(5000)]));
  const bundle = makeBundle(work, 'big-annotations', { args: ['true'], patch: (s) => (s.annotations = annotations) });
  const runcRoot = mkdtempSync(join(tmpdir(), 'pxoci-lifecycle-runc-'));
  const runc = spawnSync('/usr/sbin/runc', ['--root', runcRoot, 'create', '--bundle', bundle, 'big-runc'], { stdio: 'ignore' });
  const runcState = spawnSync('/usr/sbin/runc', ['--root', runcRoot, 'state', 'big-runc'], { encoding: 'utf8' });
  spawnSync('/usr/sbin/runc', ['--root', runcRoot, 'delete', '--force', 'big-runc'], { stdio: 'ignore' });
  t.equal(runc.status, 0, 'runc creates it');
  t.same(JSON.parse(runcState.stdout).annotations, annotations, 'and shows them');

  const r = createHoldingNoPipe(['create', '--bundle', bundle, 'big-annotations']);
  t.equal(r.status, 0, r.stderr);
  const s = pxoci(node, ['state', 'big-annotations']);
  t.same(JSON.parse(s.stdout).annotations, annotations);
  pxoci(node, ['delete', '--force', 'big-annotations']);
});

// PVE's prestart hook refuses a symlink anywhere in the rootfs path ("symlink encountered at"); a
// bundle below a symlinked directory (/var/lib/containers moved to another disk) is common.
t.test('a bundle below a symlinked directory: the CT config names the rootfs by its real path', async (t) => {
  const realDir = join(work, 'moved-storage');
  mkdirSync(realDir, { mode: 0o755 });
  const bundle = makeBundle(realDir, 'symlinked', { args: ['sh', '-c', 'echo ran; sleep 30'] });
  const link = join(work, 'storage-link');
  symlinkSync(realDir, link);
  const id = 'symlinked';
  const c = createWithPipes(node, id, join(link, 'symlinked'));
  t.equal(await c.exited, 0, c.err());
  const vmid = ctConfigs(node).find((v) => confText(node, v).includes(`pxoci container ${id}`))!;
  t.match(confText(node, vmid), new RegExp(`^rootfs: ${realpathSync(join(bundle, 'rootfs'))}$`, 'm'));
  t.notMatch(confText(node, vmid), /storage-link\/symlinked\/rootfs/);
  t.equal(pxoci(node, ['delete', '--force', id]).status, 0);
});

// runc (and PVE's devN) bind the host's node into a user-namespaced container: the host must have it,
// and it keeps the host's mode and owner (nobody inside). pxoci makes the node asked for.
t.test('a device in a user-namespaced CT: the node asked for, owned and usable by its root, absent from the host', async (t) => {
  const path = `/dev/pxoci-zero-${process.pid}`;
  t.notOk(existsSync(path));
  const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const bundle = makeBundle(work, 'userns-device', {
    args: ['sh', '-c', `stat -c '%t:%T %a %u:%g' ${path}; head -c 4 ${path} | wc -c | tr -d ' '`],
    patch: (s) => {
      s.linux.namespaces.push({ type: 'user' });
      s.linux.uidMappings = map;
      s.linux.gidMappings = map;
      s.linux.devices = [{ path, type: 'c', major: 1, minor: 5, fileMode: 0o600 }];
    },
  });
  // Files of a user-namespaced container belong to the mapped ids (PVE's pct create chowns them too).
  spawnSync('chown', ['-hR', '100000:100000', join(bundle, 'rootfs')]);
  const r = await runToExit('userns-device', bundle);
  t.equal(r.stdout, '1:5 600 0:0\n4\n', r.stderr);
  t.equal(r.status, '0');
});
