// podman's networks and pods on pxoci, side by side with runc: the default bridge with -p, slirp4netns,
// the host's network, another container's network, and a pod whose containers share the infra
// container's network, IPC and UTS namespaces (the infra container runs on the same runtime). What a
// container shares is shown from inside, by namespace inode; nothing may be left behind: CTs, network
// namespaces, iptables rules, slirp4netns processes.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxRootfs, runtimeWrapper, startSimNode, writePodmanConf, type SimNode } from './helpers/env.js';
import { pctList } from './helpers/node-checks.js';
import { sleep } from './helpers/wait.js';

for (const tool of ['/usr/bin/podman', '/usr/sbin/iptables', '/usr/bin/slirp4netns', '/usr/bin/catatonit']) {
  if (!existsSync(tool)) {
    t.fail(`${tool} is not installed (scripts/install-deps.sh installs it)`);
    process.exit(1);
  }
}

const node: SimNode = startSimNode('podman-net');
const work = mkdtempSync(join(tmpdir(), 'pxoci-podman-net-'));
const wrapper = runtimeWrapper(node, work, ['--root', join(work, 'state')]);
const conf = writePodmanConf(join(work, 'containers.conf'), { pxoci: wrapper });
const env = { ...node.env, CONTAINERS_CONF: conf };
const IMAGE = 'localhost/pxoci-busybox-net:latest';
// Names of this test's containers and pods: other suites share podman's storage on this machine.
const PREFIX = `pxnet${process.pid}`;

function podman(...args: string[]) {
  return spawnSync('/usr/bin/podman', args, { env, encoding: 'utf8', timeout: 180_000 });
}

const RUNTIMES = [
  { name: 'pxoci', flags: ['--runtime', 'pxoci'], port: 28180 },
  { name: 'runc', flags: ['--runtime', '/usr/sbin/runc'], port: 28190 },
] as const;

const NS = ['net', 'ipc', 'uts', 'pid', 'mnt'] as const;
type Inodes = Record<(typeof NS)[number], string>;
const READ_NS = `for n in ${NS.join(' ')}; do readlink /proc/self/ns/$n; done`;
const parseInodes = (text: string): Inodes => Object.fromEntries(text.trim().split('\n').slice(-NS.length).map((l, i) => [NS[i], l])) as Inodes;
/** The namespaces of a running container's process, read inside it. */
const inodesOf = (name: string): Inodes => parseInodes(podman('exec', name, 'sh', '-c', READ_NS).stdout);
const hostInodes = (): Inodes => Object.fromEntries(NS.map((n) => [n, readlinkSync(`/proc/self/ns/${n}`)])) as Inodes;
/** Which namespaces two containers share, e.g. "net ipc uts": the same set is expected from both runtimes. */
const shared = (a: Inodes, b: Inodes) => NS.filter((n) => a[n] === b[n]).join(' ');

const httpd = (text: string, port = 80) => ['sh', '-c', `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p ${port} -h /www`];

/** GET from the host, retried while the server is starting. */
async function get(url: string): Promise<string> {
  let last = '';
  for (let i = 0; i < 60; i++) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
      return await r.text();
    } catch (e) {
      last = String(e);
      await sleep(250);
    }
  }
  return `no answer from ${url}: ${last}`;
}

const netnsNames = () => (existsSync('/run/netns') ? readdirSync('/run/netns').sort() : []);
/** iptables' rules and chains of the tables CNI uses, without counters. */
const iptables = () =>
  spawnSync('iptables-save', ['-t', 'filter'], { encoding: 'utf8' })
    .stdout.concat(spawnSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }).stdout)
    .split('\n')
    .filter((l) => l.startsWith('-A') || l.startsWith(':'))
    .map((l) => l.replace(/ \[\d+:\d+\]$/, ''))
    .sort();
const slirps = () =>
  spawnSync('pgrep', ['-a', 'slirp4netns'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((l) => l.includes(PREFIX) || l.includes('/run/netns/'));

const before = { netns: netnsNames(), iptables: iptables(), bridge: existsSync('/sys/class/net/cni-podman0'), slirps: slirps() };

t.before(() => {
  const tar = spawnSync('tar', ['-C', busyboxRootfs(), '-c', '.'], { maxBuffer: 1 << 30 });
  const imp = spawnSync('/usr/bin/podman', ['import', '-', IMAGE], { env, input: tar.stdout, encoding: 'utf8' });
  if (imp.status !== 0) throw new Error(`podman import: ${imp.stderr}`);
});

/** CNI makes its base chains (CNI-FORWARD, CNI-HOSTPORT-*) and the bridge on a network's first use
 *  and never removes them: if this test was that first use, they go. Per-container rules are
 *  podman's to remove, and the last test checks they are gone. */
function removeCniBase() {
  const added = iptables().filter((l) => !before.iptables.includes(l));
  for (const table of ['filter', 'nat']) {
    const own = spawnSync('iptables-save', ['-t', table], { encoding: 'utf8' }).stdout.split('\n');
    for (const rule of own.filter((l) => l.startsWith('-A') && added.includes(l) && / -j CNI-(FORWARD|ADMIN|HOSTPORT-\w+)$|^-A CNI-(FORWARD|ADMIN|HOSTPORT-\w+) /.test(l))) {
      spawnSync('iptables', ['-t', table, ...rule.replace(/^-A /, '-D ').match(/"[^"]*"|\S+/g)!.map((w) => w.replace(/^"|"$/g, ''))]);
    }
    for (const chain of own.filter((l) => added.includes(l.replace(/ \[\d+:\d+\]$/, '')) && /^:CNI-(FORWARD|ADMIN|HOSTPORT-\w+) /.test(l))) {
      spawnSync('iptables', ['-t', table, '-X', chain.slice(1).split(' ')[0]!]);
    }
  }
  if (!before.bridge && existsSync('/sys/class/net/cni-podman0') && readdirSync('/sys/class/net/cni-podman0/brif').length === 0) {
    spawnSync('ip', ['link', 'del', 'cni-podman0']);
  }
}

t.teardown(() => {
  for (const rt of RUNTIMES) podman('pod', 'rm', '-f', '-t', '0', `${PREFIX}-pod-${rt.name}`);
  const ours = podman('ps', '-a', '--format', '{{.Names}}').stdout.split('\n').filter((n) => n.startsWith(PREFIX));
  if (ours.length) podman('rm', '-f', '-t', '0', ...ours);
  podman('rmi', IMAGE);
  removeCniBase();
  node.down();
});

t.test('the default bridge network with -p: the container serves the host through the published port', async (t) => {
  const outcome: string[] = [];
  for (const rt of RUNTIMES) {
    await t.test(rt.name, async (t) => {
      const name = `${PREFIX}-bridge-${rt.name}`;
      const run = podman(...rt.flags, 'run', '-d', '--name', name, '-p', `${rt.port}:80`, IMAGE, ...httpd(`hello-from-${rt.name}`));
      t.equal(run.status, 0, run.stderr);
      t.equal(await get(`http://127.0.0.1:${rt.port}/`), `hello-from-${rt.name}\n`, 'wget from the host gets the page');
      const netns = podman('inspect', '--format', '{{.NetworkSettings.SandboxKey}}', name).stdout.trim();
      const inside = inodesOf(name);
      t.equal(inside.net, `net:[${statSync(netns).ino}]`, `inside: the network namespace podman made (${netns})`);
      const host = hostInodes();
      t.equal(shared(inside, host), '', 'nothing else shared with the host');
      const addr = podman('exec', name, 'ip', '-o', '-4', 'addr', 'show', 'eth0');
      t.match(addr.stdout, /inet 10\.88\.\d+\.\d+\/16/, 'an address on podman\'s bridge');
      if (rt.name === 'pxoci') {
        t.match(pctList(node), /running/, 'a PVE CT while it runs');
        const pid = podman('inspect', '--format', '{{.State.Pid}}', name).stdout.trim();
        t.equal(readlinkSync(`/proc/${pid}/ns/net`), inside.net, 'State.Pid is in that network namespace too');
      }
      t.equal(podman('rm', '-f', '-t', '0', name).status, 0);
      t.notOk(existsSync(netns), 'the network namespace is gone');
      outcome.push(shared(inside, host));
    });
  }
  t.equal(outcome[0], outcome[1], "pxoci shares with the host what runc does");
  t.equal(pctList(node), '');
});

t.test('--network slirp4netns with -p: a user-mode network stack, published to the host', async (t) => {
  for (const rt of RUNTIMES) {
    await t.test(rt.name, async (t) => {
      const name = `${PREFIX}-slirp-${rt.name}`;
      const port = rt.port + 1;
      const run = podman(...rt.flags, 'run', '-d', '--name', name, '--network', 'slirp4netns', '-p', `${port}:80`, IMAGE, ...httpd(`slirp-${rt.name}`));
      t.equal(run.status, 0, run.stderr);
      t.equal(await get(`http://127.0.0.1:${port}/`), `slirp-${rt.name}\n`, 'wget from the host gets the page');
      t.match(podman('exec', name, 'ip', '-o', '-4', 'addr', 'show', 'tap0').stdout, /inet 10\.0\.2\.100\/24/, "slirp4netns's tap0 inside");
      const netns = podman('inspect', '--format', '{{.NetworkSettings.SandboxKey}}', name).stdout.trim();
      t.equal(inodesOf(name).net, `net:[${statSync(netns).ino}]`, 'inside: the network namespace slirp4netns serves');
      t.equal(podman('rm', '-f', '-t', '0', name).status, 0);
    });
  }
  t.equal(pctList(node), '');
});

t.test("--network host (and --ipc host --uts host): the host's namespaces named, and no others", async (t) => {
  const outcome: string[] = [];
  for (const rt of RUNTIMES) {
    await t.test(rt.name, async (t) => {
      const name = `${PREFIX}-host-${rt.name}`;
      const port = rt.port + 2;
      const run = podman(...rt.flags, 'run', '-d', '--name', name, '--network', 'host', IMAGE, ...httpd(`host-net-${rt.name}`, port));
      t.equal(run.status, 0, run.stderr);
      t.equal(await get(`http://127.0.0.1:${port}/`), `host-net-${rt.name}\n`, "the server listens on the host's loopback");
      const inside = inodesOf(name);
      t.equal(shared(inside, hostInodes()), 'net', "inside: the host's network namespace only");
      t.equal(podman('rm', '-f', '-t', '0', name).status, 0);
      // and the host's IPC and UTS namespaces with it: the host's hostname, which podman then leaves alone
      const all = podman(...rt.flags, 'run', '--rm', '--network', 'host', '--ipc', 'host', '--uts', 'host', IMAGE, 'sh', '-c', `hostname && ${READ_NS}`);
      t.equal(all.status, 0, all.stderr);
      t.equal(all.stdout.split('\n')[0], readFileSync('/proc/sys/kernel/hostname', 'utf8').trim(), "the host's hostname");
      const allInside = parseInodes(all.stdout);
      t.equal(shared(allInside, hostInodes()), 'net ipc uts', "inside: the host's network, IPC and UTS namespaces, not its pid or mount namespace");
      outcome.push(`${shared(inside, hostInodes())} / ${shared(allInside, hostInodes())}`);
    });
  }
  t.equal(outcome[0], outcome[1], "the same as runc's");
  t.equal(pctList(node), '');
});

t.test('--network container:<other>: the other container\'s network namespace, and only that', async (t) => {
  const outcome: string[] = [];
  for (const rt of RUNTIMES) {
    await t.test(rt.name, async (t) => {
      const server = `${PREFIX}-srv-${rt.name}`;
      const run = podman(...rt.flags, 'run', '-d', '--name', server, IMAGE, ...httpd(`next-door-${rt.name}`));
      t.equal(run.status, 0, run.stderr);
      const theirs = inodesOf(server);
      const client = podman(...rt.flags, 'run', '--rm', '--name', `${PREFIX}-cli-${rt.name}`, '--network', `container:${server}`, IMAGE, 'sh', '-c', `wget -q -O - http://127.0.0.1:80/ && ${READ_NS}`);
      t.equal(client.status, 0, client.stderr);
      t.match(client.stdout, new RegExp(`^next-door-${rt.name}\n`), "the other container's server on 127.0.0.1");
      const mine = parseInodes(client.stdout);
      t.equal(shared(mine, theirs), 'net', 'inside: its network namespace, no other');
      t.equal(shared(mine, hostInodes()), '', 'and none of the host\'s');
      t.equal(podman('rm', '-f', '-t', '0', server).status, 0);
      outcome.push(shared(mine, theirs));
    });
  }
  t.equal(outcome[0], outcome[1], "the same as runc's");
  t.equal(pctList(node), '');
});

t.test('podman pod: the infra container and two more share network, IPC and UTS, and talk over localhost', async (t) => {
  const outcome: string[] = [];
  for (const rt of RUNTIMES) {
    await t.test(rt.name, async (t) => {
      const pod = `${PREFIX}-pod-${rt.name}`;
      const created = podman(...rt.flags, 'pod', 'create', '--name', pod);
      t.equal(created.status, 0, created.stderr);
      const server = `${PREFIX}-podsrv-${rt.name}`;
      const run = podman(...rt.flags, 'run', '-d', '--pod', pod, '--name', server, IMAGE, ...httpd(`in-pod-${rt.name}`));
      t.equal(run.status, 0, run.stderr);
      const infra = podman('pod', 'inspect', '--format', '{{.InfraContainerID}}', pod).stdout.trim();
      t.match(podman('inspect', '--format', '{{.OCIRuntime}}', infra).stdout.trim(), rt.name === 'pxoci' ? /pxoci/ : /runc/, `the infra container runs on ${rt.name}`);
      const infraPid = podman('inspect', '--format', '{{.State.Pid}}', infra).stdout.trim();
      const infraNs = Object.fromEntries(NS.map((n) => [n, readlinkSync(`/proc/${infraPid}/ns/${n}`)])) as Inodes;
      const serverNs = inodesOf(server);
      const client = podman(...rt.flags, 'run', '--rm', '--pod', pod, '--name', `${PREFIX}-podcli-${rt.name}`, IMAGE, 'sh', '-c', `wget -q -O - http://127.0.0.1:80/ && hostname && ${READ_NS}`);
      t.equal(client.status, 0, client.stderr);
      const [page, hostname] = client.stdout.split('\n');
      t.equal(page, `in-pod-${rt.name}`, "the other container's server on 127.0.0.1");
      t.equal(hostname, pod, "the pod's hostname, from the shared UTS namespace");
      t.equal(podman('exec', server, 'hostname').stdout.trim(), pod, 'in both containers');
      const clientNs = parseInodes(client.stdout);
      t.equal(shared(clientNs, serverNs), 'net ipc uts', 'client and server: network, IPC and UTS, not pid or mount');
      t.equal(shared(serverNs, infraNs), 'net ipc uts', 'server and infra container the same');
      t.equal(shared(clientNs, hostInodes()), '', "none of the host's");
      if (rt.name === 'pxoci') t.equal(pctList(node).trim().split('\n').length - 1, 2, 'two CTs run: the infra container and the server');
      t.equal(podman('pod', 'rm', '-f', '-t', '0', pod).status, 0);
      outcome.push(`${shared(clientNs, serverNs)} / ${shared(serverNs, infraNs)}`);
    });
  }
  t.equal(outcome[0], outcome[1], "the same as runc's");
  t.equal(pctList(node), '');
});

t.test('nothing is left behind: CTs, network namespaces, iptables rules, slirp4netns', async (t) => {
  t.equal(pctList(node), '', 'no CT');
  t.same(netnsNames(), before.netns, 'no network namespace');
  await sleep(500); // slirp4netns ends once its namespace has no process left
  t.same(slirps(), before.slirps, 'no slirp4netns process');
  removeCniBase();
  t.same(iptables(), before.iptables, "no iptables rule or chain the test's containers added");
});
