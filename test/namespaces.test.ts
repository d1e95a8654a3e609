// Namespaces a config names by path, as pods and CRI sandboxes name them: the container process, its
// exec'd processes, its sysctls and hostname, and the pid-file pid are in exactly those (side by side
// with runc); the capability the join needs is gone afterwards; a path that is no such namespace
// fails create by name and leaves nothing.
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWithPipes, makeBundle, pxoci, startSimNode, type SimNode } from './helpers/env.js';
import { pctList } from './helpers/node-checks.js';
import { sleep, waitUntil } from './helpers/wait.js';

const node: SimNode = startSimNode('namespaces');
const work = mkdtempSync(join(tmpdir(), 'pxoci-namespaces-'));
const runcRoot = join(work, 'runc-state');
t.teardown(() => node.down());

/** A process in network, IPC and UTS namespaces of its own: what a pod's first container is. */
async function holder(): Promise<{ pid: number; ns: (n: string) => string; proc: ChildProcess }> {
  const proc = spawn('unshare', ['--net', '--ipc', '--uts', 'sleep', '600'], { stdio: 'ignore' });
  const pid = proc.pid!;
  // unshare execs sleep once it is in its namespaces
  await waitUntil(() => readlinkSync(`/proc/${pid}/ns/net`) !== readlinkSync('/proc/self/ns/net') && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep');
  return { pid, ns: (n) => readlinkSync(`/proc/${pid}/ns/${n}`), proc };
}
const inNs = (pid: number, flag: string, ...cmd: string[]) => spawnSync('nsenter', ['-t', String(pid), flag, ...cmd], { encoding: 'utf8' }).stdout.trim();
const UNPRIV_PORT = 'net.ipv4.ip_unprivileged_port_start';
const PORT_FILE = '/proc/sys/net/ipv4/ip_unprivileged_port_start';

const RUNTIMES = [
  {
    name: 'pxoci',
    create: async (id: string, bundle: string, pidFile: string) => {
      const c = createWithPipes(node, id, bundle, ['--pid-file', pidFile]);
      return { code: await c.exited, err: c.err() };
    },
    run: (args: string[]) => pxoci(node, args),
  },
  {
    name: 'runc',
    create: async (id: string, bundle: string, pidFile: string) => {
      // The container process inherits create's stdio: a pipe would keep spawnSync waiting for it.
      const errFile = join(work, `${id}.runc-err`);
      const errFd = openSync(errFile, 'w');
      const r = spawnSync('/usr/sbin/runc', ['--root', runcRoot, 'create', '--bundle', bundle, '--pid-file', pidFile, id], { stdio: ['ignore', 'ignore', errFd], timeout: 60_000 });
      closeSync(errFd);
      return { code: r.status, err: readFileSync(errFile, 'utf8') };
    },
    run: (args: string[]) => spawnSync('/usr/sbin/runc', ['--root', runcRoot, ...args], { encoding: 'utf8', timeout: 60_000 }),
  },
] as const;

t.test('joined by path: the process, exec, sysctls, hostname and the pid-file pid are in those namespaces', async (t) => {
  const host = readFileSync(PORT_FILE, 'utf8').trim();
  const seen: string[] = [];
  for (const rt of RUNTIMES) {
    await t.test(rt.name, async (t) => {
      const h = await holder();
      try {
        const id = `joined-${rt.name}`;
        const bundle = makeBundle(work, id, {
          args: ['sleep', '300'],
          patch: (s) => {
            s.hostname = `joined-${rt.name}`;
            s.linux.sysctl = { [UNPRIV_PORT]: '99' };
            s.process.capabilities = Object.fromEntries(['bounding', 'effective', 'permitted'].map((set) => [set, ['CAP_KILL', 'CAP_NET_BIND_SERVICE']]));
            for (const n of s.linux.namespaces) if (['network', 'ipc', 'uts'].includes(n.type)) n.path = `/proc/${h.pid}/ns/${n.type === 'network' ? 'net' : n.type}`;
          },
        });
        const pidFile = join(work, `${id}.pid`);
        const c = await rt.create(id, bundle, pidFile);
        t.equal(c.code, 0, c.err);
        t.equal(rt.run(['start', id]).status, 0);

        const inside = rt.run(['exec', id, 'sh', '-c', 'for n in net ipc uts pid mnt; do readlink /proc/self/ns/$n; done; hostname; cat ' + PORT_FILE + '; grep CapBnd /proc/self/status']);
        t.equal(inside.status, 0, inside.stderr);
        const [net, ipc, uts, pid, mnt, hostname, port, capBnd] = inside.stdout.trim().split('\n');
        t.same([net, ipc, uts], [h.ns('net'), h.ns('ipc'), h.ns('uts')], 'exec: the network, IPC and UTS namespaces the paths name');
        t.not(pid, h.ns('pid'), 'not the holder\'s pid namespace');
        t.not(mnt, h.ns('mnt'), 'nor its mount namespace');
        t.not(pid, readlinkSync('/proc/self/ns/pid'), 'nor the host\'s');
        t.equal(hostname, `joined-${rt.name}`, 'the hostname, set in the joined UTS namespace');
        t.equal(inNs(h.pid, '-u', 'hostname'), `joined-${rt.name}`, 'which the holder sees');
        t.equal(port, '99', 'the sysctl, in the joined network namespace');
        t.equal(inNs(h.pid, '-n', 'cat', PORT_FILE), '99', 'which the holder sees');
        t.equal(readFileSync(PORT_FILE, 'utf8').trim(), host, "the host's value is untouched");
        const sysAdmin = 1n << 21n;
        t.equal(BigInt(`0x${capBnd!.split(/\s+/)[1]}`) & sysAdmin, 0n, 'no CAP_SYS_ADMIN in the bounding set');
        const enginePid = Number(readFileSync(pidFile, 'utf8'));
        t.same(['net', 'ipc', 'uts'].map((n) => readlinkSync(`/proc/${enginePid}/ns/${n}`)), [net, ipc, uts], 'the pid-file pid is in them: the next container joins through it');
        if (rt.name === 'pxoci') {
          const initStatus = rt.run(['exec', id, 'grep', '-E', '^Cap(Bnd|Eff|Prm):', '/proc/1/status']).stdout;
          for (const line of initStatus.trim().split('\n')) t.equal(BigInt(`0x${line.split(/\s+/)[1]}`) & sysAdmin, 0n, `the CT's init dropped CAP_SYS_ADMIN once joined (${line})`);
        }
        seen.push(capBnd!);
        t.equal(rt.run(['delete', '--force', id]).status, 0);
      } finally {
        h.proc.kill('SIGKILL');
      }
    });
  }
  t.equal(seen[0], seen[1], "the process's bounding set is runc's");
  t.equal(pctList(node), '');
});

t.test('a namespace path that is no namespace of that type fails create by name and leaves nothing', async (t) => {
  const notNs = join(work, 'plain-file');
  writeFileSync(notNs, '');
  const fifo = join(work, 'a-fifo');
  spawnSync('mkfifo', [fifo]);
  const cases: Array<[string, string, RegExp]> = [
    ['a plain file', notNs, /^linux\.namespaces\[4\]\.path: .*plain-file is not a network namespace$/m],
    ['an IPC namespace', '/proc/self/ns/ipc', /^linux\.namespaces\[4\]\.path: \/proc\/self\/ns\/ipc is not a network namespace$/m],
    ['nothing', join(work, 'missing'), /^linux\.namespaces\[4\]\.path: cannot open .*missing: No such file or directory$/m],
    // never opened for reading (that would wait for a writer; runc's create does)
    ['a fifo', fifo, /^linux\.namespaces\[4\]\.path: .*a-fifo is not a network namespace$/m],
  ];
  for (const [what, path, message] of cases) {
    const id = `bad-${what.replace(/\W+/g, '-')}`;
    const bundle = makeBundle(work, id, { patch: (s) => (s.linux.namespaces[4].path = path) });
    if (what !== 'a fifo') {
      const runc = spawnSync('/usr/sbin/runc', ['--root', runcRoot, 'create', '--bundle', bundle, id], { stdio: 'ignore', timeout: 60_000 });
      t.not(runc.status, 0, `runc refuses ${what} too`);
      spawnSync('/usr/sbin/runc', ['--root', runcRoot, 'delete', '--force', id]);
    }
    const c = createWithPipes(node, id, bundle);
    t.equal(await c.exited, 1, `${what}: exit 1`);
    t.match(c.err(), message, `${what}: names the field`);
    t.notMatch(c.err(), /\n\s+at /, 'no stack trace');
    t.equal(pxoci(node, ['list', '-q']).stdout, '', 'no container left');
    t.equal(pctList(node), '', 'no CT left');
  }
});

t.test('the host\'s namespaces where the list leaves them out, and only those', async (t) => {
  const id = 'host-net';
  const bundle = makeBundle(work, id, {
    args: ['sh', '-c', 'for n in net ipc uts pid mnt; do readlink /proc/self/ns/$n; done'],
    patch: (s) => {
      s.linux.namespaces = s.linux.namespaces.filter((n: { type: string }) => n.type !== 'network' && n.type !== 'ipc');
    },
  });
  const c = createWithPipes(node, id, bundle);
  t.equal(await c.exited, 0, c.err());
  t.equal(pxoci(node, ['start', id]).status, 0);
  await c.closed;
  await sleep(100);
  const [net, ipc, uts, pid, mnt] = c.out().trim().split('\n');
  const host = (n: string) => readlinkSync(`/proc/self/ns/${n}`);
  t.same([net, ipc], [host('net'), host('ipc')], "the host's network and IPC namespaces");
  t.same([uts, pid, mnt].map((x, i) => x === host(['uts', 'pid', 'mnt'][i]!)), [false, false, false], 'the CT\'s own UTS, pid and mount namespaces');
  t.equal(pxoci(node, ['delete', '--force', id]).status, 0);
  t.equal(pctList(node), '');
});
