// pxoci update next to runc update, on one running container each: every runc flag (and -r) changes
// the limit the container lives under, read from inside where the kernel shows it there (effective
// memory limits, cpusets, how many processes fork), from the CT's own cgroup where it does not (PVE
// sets limits on lxc/<vmid>, one level above the container's cgroup namespace root), and from
// `pct config`; what a running PVE CT cannot change is refused by name, with nothing changed.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createWithPipes, makeBundle, pxoci, startSimNode, type SimNode } from './helpers/env.js';

const node: SimNode = startSimNode('update');
t.teardown(() => node.down());
const work = mkdtempSync(join(tmpdir(), 'pxoci-update-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

const RUNC = '/usr/sbin/runc';
const runcRoot = join(work, 'runc-state');
const MiB = 1024 * 1024;
const id = 'upd';
// Both start below what the tests raise them to: a raised limit must hold above the old one too.
const initial = { memory: { limit: 64 * MiB }, pids: { limit: 50 } };

let vmid = 0;
let runcUp = false;

t.before(async () => {
  const bundle = makeBundle(work, id, { args: ['sleep', '100000'], patch: (s) => (s.linux.resources = initial) });
  const c = createWithPipes(node, id, bundle);
  if ((await c.exited) !== 0) throw new Error(`create: ${c.err()}`);
  const s = pxoci(node, ['start', id]);
  if (s.status !== 0) throw new Error(`start: ${s.stderr}`);
  vmid = Number(/^(\d+)/m.exec(spawnSync(join(node.root, 'usr/sbin/pct'), ['list'], { env: node.env, encoding: 'utf8' }).stdout.split('\n')[1] ?? '')?.[1]);
  if (existsSync(RUNC)) {
    const runcBundle = makeBundle(work, 'runc', { args: ['sleep', '100000'], patch: (s) => (s.linux.resources = initial) });
    // Detached, runc hands its stdio to the container: no pipe that would stay open.
    const r = spawnSync(RUNC, ['--root', runcRoot, 'run', '-d', '--bundle', runcBundle, id], { stdio: 'ignore' });
    runcUp = r.status === 0;
  }
});
t.teardown(() => {
  pxoci(node, ['delete', '--force', id]);
  if (runcUp) spawnSync(RUNC, ['--root', runcRoot, 'delete', '--force', id]);
});

type Runtime = 'pxoci' | 'runc';

function update(runtime: Runtime, args: string[], input?: string) {
  if (runtime === 'pxoci') return pxoci(node, ['update', ...args, id], { cwd: work, input });
  return spawnSync(RUNC, ['--root', runcRoot, 'update', ...args, id], { cwd: work, input, encoding: 'utf8' });
}

/** What `sh -c script` prints inside the container. */
function inside(runtime: Runtime, script: string): string {
  const r =
    runtime === 'pxoci'
      ? pxoci(node, ['exec', id, 'sh', '-c', script])
      : spawnSync(RUNC, ['--root', runcRoot, 'exec', id, 'sh', '-c', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${runtime} exec ${script}: ${r.stderr}`);
  return r.stdout;
}

function pctConfig(): string {
  return spawnSync(join(node.root, 'usr/sbin/pct'), ['config', String(vmid)], { env: node.env, encoding: 'utf8' }).stdout;
}

/** A file of the CT's own cgroup (lxc/<vmid>, the parent of the container's `ns`), found from the
 *  container process's cgroup as the kernel reports it. */
function ctCgroupFile(controller: string, file: string): string {
  const pid = JSON.parse(pxoci(node, ['state', id]).stdout).pid as number;
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.split(':')[1]?.split(',').includes(controller));
  const path = line!.split(':')[2]!;
  t.match(path, new RegExp(`/lxc/${vmid}/ns$`), 'the container runs in lxc/<vmid>/ns');
  return readFileSync(join('/sys/fs/cgroup', controller, dirname(path), file), 'utf8').trim();
}

/** ash gives up at the first failed fork: a child shell forks until then, its parent counts, then kills
 *  what the child forked and waits (builtins only, no fork) until they are gone, so that the next exec
 *  finds the container's process count back where it was and has room to attach under the limit. */
const forkUntilRefused =
  'rm -f /tmp/forked; sh -c "i=0; while [ \\$i -lt 40 ]; do sleep 30 & echo \\$! >>/tmp/forked; i=\\$((i+1)); done" >/dev/null 2>&1; ' +
  'set -- /proc/[0-9]*; n=$#; while read p; do kill $p; while [ -e /proc/$p ]; do :; done; done </tmp/forked; echo $n';
const processesInside = (runtime: Runtime) => Number(inside(runtime, forkUntilRefused).trim());
const memoryStat = (runtime: Runtime, key: string) => /\d+/.exec(inside(runtime, `grep -E "^${key} " /sys/fs/cgroup/memory/memory.stat`))?.[0];

function updated(t: Test, runtime: Runtime, args: string[], input?: string) {
  const r = update(runtime, args, input);
  t.equal(r.status, 0, `${runtime} update ${args.join(' ')}: ${r.stderr}`);
  return r;
}

t.test('--pids-limit, -r FILE and -r - set pids.max, and forks stop there', async (t) => {
  updated(t, 'pxoci', ['--pids-limit', '9']);
  t.match(pctConfig(), /^lxc\.cgroup2\.pids\.max: 9$/m, 'pct config');
  t.equal(ctCgroupFile('pids', 'pids.max'), '9', "the CT's cgroup");
  const n = processesInside('pxoci');
  t.ok(n >= 3 && n <= 9, `processes in the container: ${n}`);

  writeFileSync(join(work, 'r.json'), JSON.stringify({ pids: { limit: 7 } }));
  updated(t, 'pxoci', ['-r', 'r.json']);
  t.match(pctConfig(), /^lxc\.cgroup2\.pids\.max: 7$/m);
  t.equal(ctCgroupFile('pids', 'pids.max'), '7');
  t.ok(processesInside('pxoci') <= 7, 'forks stop at 7');

  // Raised above the limit the container was created with (50).
  updated(t, 'pxoci', ['-r', '-'], JSON.stringify({ pids: { limit: 60 } }));
  t.equal(ctCgroupFile('pids', 'pids.max'), '60');
  t.ok(processesInside('pxoci') > 40, 'more than the 40 forks fit now');
  t.equal(pctConfig().match(/pids\.max/g)?.length, 1, 'one pids.max line: the update replaced the create-time one');

  if (runcUp) {
    for (const [args, input, want] of [[['--pids-limit', '9'], undefined, '9'], [['-r', 'r.json'], undefined, '7'], [['-r', '-'], JSON.stringify({ pids: { limit: 60 } }), '60']] as const) {
      updated(t, 'runc', [...args], input);
      t.equal(inside('runc', 'cat /sys/fs/cgroup/pids/pids.max').trim(), want, `runc ${args.join(' ')}`);
    }
  }
});

t.test('--memory and --memory-swap change the effective limits (raised above the create-time ones)', async (t) => {
  for (const runtime of runcUp ? (['pxoci', 'runc'] as const) : (['pxoci'] as const)) {
    updated(t, runtime, ['--memory', '300m']);
    t.equal(memoryStat(runtime, 'hierarchical_memory_limit'), String(300 * MiB), `${runtime}: memory`);
    updated(t, runtime, ['--memory-swap', '400m']);
    t.equal(memoryStat(runtime, 'hierarchical_memsw_limit'), String(400 * MiB), `${runtime}: memory + swap`);
  }
  t.match(pctConfig(), /^memory: 300$/m);
  t.match(pctConfig(), /^swap: 100$/m, 'PVE keeps swap alone: 400m - 300m');
});

t.test('--memory-reservation sets the soft limit', async (t) => {
  updated(t, 'pxoci', ['--memory-reservation', '100m']);
  t.match(pctConfig(), new RegExp(`^lxc\\.cgroup2\\.memory\\.low: ${100 * MiB}$`, 'm'));
  t.equal(ctCgroupFile('memory', 'memory.soft_limit_in_bytes'), String(100 * MiB));
  if (runcUp) {
    updated(t, 'runc', ['--memory-reservation', '100m']);
    t.equal(inside('runc', 'cat /sys/fs/cgroup/memory/memory.soft_limit_in_bytes').trim(), String(100 * MiB));
  }
});

t.test('--cpu-share (and --cpu-shares) set the CPU weight through cpuunits', async (t) => {
  updated(t, 'pxoci', ['--cpu-share', '512']);
  t.match(pctConfig(), /^cpuunits: 20$/m, "runc's shares → weight conversion");
  updated(t, 'pxoci', ['--cpu-shares', '1024']);
  t.match(pctConfig(), /^cpuunits: 39$/m);
  // cpu.weight 39 as this node's cgroup v1 cpu.shares (pvesim's translation of PVE's v2 key).
  t.equal(ctCgroupFile('cpu', 'cpu.shares'), String(Math.round(2 + (38 * 262142) / 9999)));
  if (runcUp) {
    updated(t, 'runc', ['--cpu-share', '512']);
    t.equal(inside('runc', 'cat /sys/fs/cgroup/cpu/cpu.shares').trim(), '512');
  }
});

t.test('--cpu-quota and --cpu-period: cpulimit, each alone keeping the other as runc does', async (t) => {
  const quota = () => [ctCgroupFile('cpu', 'cpu.cfs_quota_us'), ctCgroupFile('cpu', 'cpu.cfs_period_us')];
  updated(t, 'pxoci', ['--cpu-quota', '50000', '--cpu-period', '100000']);
  t.match(pctConfig(), /^cpulimit: 0\.5$/m);
  t.same(quota(), ['50000', '100000']);
  updated(t, 'pxoci', ['--cpu-quota', '25000']);
  t.match(pctConfig(), /^cpulimit: 0\.25$/m, 'the period stays 100000');
  updated(t, 'pxoci', ['--cpu-period', '50000']);
  t.match(pctConfig(), /^cpulimit: 0\.5$/m, 'the quota stays 25000: 25000/50000 (PVE writes it over 100000)');
  t.same(quota(), ['50000', '100000']);
  updated(t, 'pxoci', ['--cpu-quota', '-1']);
  t.notMatch(pctConfig(), /^cpulimit:/m, 'no limit: PVE has no cpulimit');
  t.same(quota(), ['-1', '100000']);
  if (runcUp) {
    const runcQuota = () => inside('runc', 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us').trim().split('\n');
    updated(t, 'runc', ['--cpu-quota', '50000', '--cpu-period', '100000']);
    t.same(runcQuota(), ['50000', '100000']);
    updated(t, 'runc', ['--cpu-quota', '25000']);
    updated(t, 'runc', ['--cpu-period', '50000']);
    t.same(runcQuota(), ['25000', '50000'], 'runc: the same ratio');
    updated(t, 'runc', ['--cpu-quota', '-1']);
    t.same(runcQuota()[0], '-1');
  }
});

t.test('--cpuset-cpus and --cpuset-mems: the CPUs and memory nodes the container may use', async (t) => {
  t.ok(cpus().length >= 2, 'the host has CPUs 0 and 1');
  for (const runtime of runcUp ? (['pxoci', 'runc'] as const) : (['pxoci'] as const)) {
    updated(t, runtime, ['--cpuset-cpus', '1', '--cpuset-mems', '0']);
    t.match(inside(runtime, 'grep _allowed_list /proc/self/status'), /Cpus_allowed_list:\s+1\nMems_allowed_list:\s+0\n/, `${runtime}: narrowed`);
    updated(t, runtime, ['--cpuset-cpus', '0-1']);
    t.match(inside(runtime, 'grep Cpus_allowed_list /proc/self/status'), /Cpus_allowed_list:\s+0-1\n/, `${runtime}: widened again`);
  }
  const conf = pctConfig();
  t.match(conf, /^cores: 2$/m);
  t.match(conf, /^lxc\.cgroup2\.cpuset\.cpus: 0-1$/m);
  t.match(conf, /^lxc\.cgroup2\.cpuset\.mems: 0$/m);
});

t.test('--blkio-weight: kept in the config as io.weight; a node without cgroup v2 io says it cannot apply it now', async (t) => {
  const r = updated(t, 'pxoci', ['--blkio-weight', '500']);
  t.match(pctConfig(), /^lxc\.cgroup2\.io\.weight: default 4950$/m, "runc's [10, 1000] → [1, 10000] conversion");
  if (!existsSync('/sys/fs/cgroup/cgroup.controllers')) t.match(r.stderr, /^warning: io\.weight is not applied to the running CT: this node's io controller is not on cgroup v2/);
});

t.test('what a running PVE CT cannot change, and values no limit can have, are refused by name; nothing changes', async (t) => {
  writeFileSync(join(work, 'r.json'), JSON.stringify({ pids: { limit: 5 } }));
  updated(t, 'pxoci', ['--memory', '300m']);
  const cases: Array<[string[], string | undefined, RegExp]> = [
    [['--kernel-memory', '10m'], undefined, /^linux\.resources\.memory\.kernel: .*cgroup v1 only/],
    [['--kernel-memory-tcp', '10m'], undefined, /^linux\.resources\.memory\.kernelTCP: /],
    [['--cpu-rt-runtime', '100'], undefined, /^linux\.resources\.cpu\.realtimeRuntime: no cgroup v2 key on PVE$/],
    [['--cpu-rt-period', '1000000'], undefined, /^linux\.resources\.cpu\.realtimePeriod: /],
    [['--cpu-burst', '1000'], undefined, /^linux\.resources\.cpu\.burst: /],
    [['--cpu-idle', '1'], undefined, /^linux\.resources\.cpu\.idle: /],
    [['--l3-cache-schema', 'L3:0=f'], undefined, /^--l3-cache-schema: Intel RDT \(linux\.intelRdt\) is not available to a PVE CT$/],
    [['--mem-bw-schema', 'MB:0=50'], undefined, /^--mem-bw-schema: Intel RDT/],
    [['--memory', '-1'], undefined, /^linux\.resources\.memory\.limit: -1 \(unlimited\) is not expressible/],
    [['--memory-swap', '-1'], undefined, /^linux\.resources\.memory\.swap: unlimited swap \(-1\) is not expressible/],
    [['--memory-swap', '100m'], undefined, /^linux\.resources\.memory\.swap: 104857600 is below the memory limit of 314572800 bytes/],
    [['--memory', '1m'], undefined, /^linux\.resources\.memory\.limit: becomes PVE's memory: 1, which PVE refuses: value must have a minimum value of 16$/],
    [['--memory', '12x'], undefined, /^invalid value for memory: invalid size: '12x'$/],
    [['--pids-limit', 'many'], undefined, /^invalid value for pids-limit: /],
    [['--cpuset-cpus', '5-1'], undefined, /^linux\.resources\.cpu\.cpus: "5-1" is not a CPU list: the range 5-1 runs backwards$/],
    [['--cpuset-cpus', '0-99999'], undefined, /^linux\.resources\.cpu\.cpus: becomes PVE's cores: 100000, which PVE refuses: value must have a maximum value of 8192$/],
    [['--blkio-weight', '5'], undefined, /^linux\.resources\.blockIO\.weight: must be >= 10$/],
    [['-r', '-'], '{"memory":{"limit":"abc"}}', /^linux\.resources\.memory\.limit: must be integer$/],
    [['-r', '-'], 'null', /^linux\.resources: must be object$/],
    [['-r', '-'], '{"memory":{"limit":1e300}}', /^linux\.resources\.memory\.limit: must be <= 9223372036854775807 \(an int64\)$/],
    [['-r', '-'], '{"hugepageLimits":[{"pageSize":"2MB","limit":1}]}', /^linux\.resources\.hugepageLimits: /],
    [['-r', '-'], '{"devices":[{"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"}]}', /^linux\.resources\.devices: the device rules of a running PVE CT cannot be changed/],
    [['-r', '-'], '{"unified":{"cgroup.procs":"1"}}', /^linux\.resources\.unified\["cgroup\.procs"\]: a cgroup core file/],
    [['-r', 'r.json', '--pids-limit', '5'], undefined, /^--pids-limit: not taken together with --resources/],
    // The kernel refuses the CPU (this node has no CPU 7): the memory change that came with it is not made.
    [['--cpuset-cpus', '7', '--memory', '200m'], undefined, /^linux\.resources\.cpu\.cpus: the kernel refused cpuset\.cpus = 7/],
  ];
  t.ok(cpus().length < 8, 'the host has no CPU 7');
  const before = pctConfig();
  const limits = () => [ctCgroupFile('memory', 'memory.limit_in_bytes'), ctCgroupFile('pids', 'pids.max'), ctCgroupFile('cpuset', 'cpuset.cpus')];
  const limitsBefore = limits();
  for (const [args, input, message] of cases) {
    const r = update('pxoci', args, input);
    t.equal(r.status, 1, `${args.join(' ')} ${input ?? ''}: exit 1`);
    t.match(r.stderr.trimEnd(), message, `${args.join(' ')} ${input ?? ''}`);
    t.equal(r.stderr.split('\n').length, 2, 'one line');
  }
  t.equal(pctConfig(), before, 'the PVE config is as it was');
  t.same(limits(), limitsBefore, "the CT's cgroup is as it was");
  // The create-time device rules resent (as engines do with every update) are no change.
  updated(t, 'pxoci', ['-r', '-'], '{"devices":[{"allow":false,"access":"rwm"}]}');
  t.equal(pctConfig(), before);

  if (runcUp) {
    // runc refuses these too (its texts), where the input itself is wrong.
    t.match(update('runc', ['--memory', '12x']).stderr, /invalid value for memory/);
    t.match(update('runc', ['-r', '-'], '{"memory":{"limit":"abc"}}').stderr, /cannot unmarshal string/);
    t.equal(update('runc', ['--cpuset-cpus', '5-1']).status, 1);
    t.equal(update('runc', ['--l3-cache-schema', 'L3:0=f']).status, 1);
  }
});
