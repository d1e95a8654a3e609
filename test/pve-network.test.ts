// PVE-native networking: the annotation org.proxmox.pxoci.net0 gives a CT without the engine's network a
// PVE net0, checked by PVE's rules; on the simulated node its veth lands on vmbr0 in the node's own
// network namespace, where a server in the CT answers.
import t, { type Test } from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateSpec } from '../src/oci/bundle.js';
import { translate, type TranslateContext } from '../src/oci/translate.js';
import { parsePropertyString } from '../src/pve/config.js';
import { dhclientFile, hostManagedDhcp } from '../src/pve/host-dhcp.js';
import { nodePaths } from '../src/pve/paths.js';
import { startHostDhcp } from '../src/pvesim/ct-dhcp.js';
import { adaptNetworks, ensureNodeNetwork, nodeNetnsPath } from '../src/pvesim/node-network.js';
import { busyboxRootfs, createWithPipes, makeBundle, pvesimJs, pxoci, startSimNode, type SimNode } from './helpers/env.js';
import { confText, ctConfigs, processesMentioning } from './helpers/node-checks.js';
import { waitUntil } from './helpers/wait.js';

const ANNOTATION = 'org.proxmox.pxoci.net0';
const ctx: TranslateContext = { id: 'net', bundle: '/b', vmid: 100, runtimeDir: '/run/pxoci/net/ct', arch: 'amd64', rootfs: '/b/rootfs' };
const privateNs = ['pid', 'network', 'ipc', 'uts', 'mount'].map((type) => ({ type }));

function spec(net0: string | undefined, namespaces: any[] | undefined = privateNs): any {
  return validateSpec({
    ociVersion: '1.2.0',
    process: { args: ['sh'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } },
    root: { path: 'rootfs' },
    ...(net0 === undefined ? {} : { annotations: { [ANNOTATION]: net0 } }),
    linux: namespaces ? { namespaces } : {},
  });
}
const refusal = (s: any) => {
  try {
    translate(s, ctx);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
};

t.test("PVE's net0 rules, with PVE's texts", async (t) => {
  const ok = parsePropertyString('net', 'name=eth0,bridge=vmbr0,ip=10.0.0.2/24,gw=10.0.0.1,ip6=fd00::2/64,gw6=fd00::1,tag=5,firewall=yes');
  t.same(ok, { name: 'eth0', bridge: 'vmbr0', ip: '10.0.0.2/24', gw: '10.0.0.1', ip6: 'fd00::2/64', gw6: 'fd00::1', tag: '5', firewall: '1' });
  for (const ip of ['dhcp', 'manual', '192.168.1.1/8', '255.255.255.255/32']) t.doesNotThrow(() => parsePropertyString('net', `name=e,ip=${ip}`), ip);
  for (const ip6 of ['auto', 'dhcp', 'manual', '::/8', '2001:db8::1/128', '::ffff:10.0.0.1/96']) t.doesNotThrow(() => parsePropertyString('net', `name=e,ip6=${ip6}`), ip6);
  const bad: Array<[string, string]> = [
    ['name=e,ip=10.0.0.2', 'ip: invalid format - value does not look like a valid ipv4 network configuration'],
    ['name=e,ip=10.0.0.2/7', 'ip: invalid format - value does not look like a valid ipv4 network configuration'],
    ['name=e,ip=256.0.0.2/24', 'ip: invalid format - value does not look like a valid ipv4 network configuration'],
    ['name=e,gw=10.0.0.1/24', 'gw: invalid format - value does not look like a valid IPv4 address'],
    ['name=e,ip6=fd00::1', 'ip6: invalid format - value does not look like a valid ipv6 network configuration'],
    ['name=e,gw6=1::2::3', 'gw6: invalid format - value does not look like a valid IPv6 address'],
    ['name=e,hwaddr=BD:24:11:00:00:01', 'hwaddr: invalid format - value does not look like a valid unicast MAC address'],
    ['name=e,tag=0', 'tag: value must have a minimum value of 1'],
    ['name=e,tag=4095', 'tag: value must have a maximum value of 4094'],
    ['name=e,firewall=maybe', "firewall: type check ('boolean') failed - got 'maybe'"],
    ['bridge=vmbr0', 'name: property is missing and it is not optional'],
    ['name=e,vlan=3', 'invalid key in comma-separated list property: vlan'],
  ];
  // A key that fails its check comes as PVE's `format error` with one line per key.
  for (const [value, message] of bad) t.throws(() => parsePropertyString('net', value), { message: message.startsWith('invalid key') ? message : `format error\n${message}` }, value);
});

t.test('the annotation becomes net0, with a PVE MAC and host-managed', async (t) => {
  const { config } = translate(spec('name=eth0,bridge=vmbr0,ip=10.0.0.2/24,gw=10.0.0.1,tag=7,firewall=1'), ctx);
  t.match(config.options.net0, /^name=eth0,bridge=vmbr0,firewall=1,gw=10\.0\.0\.1,host-managed=1,hwaddr=BC:24:11(:[0-9A-F]{2}){3},ip=10\.0\.0\.2\/24,tag=7$/);
  const again = translate(spec('name=eth0,bridge=vmbr0,ip=10.0.0.3/24'), ctx).config.options.net0!;
  t.not(again.match(/hwaddr=([^,]+)/)![1], config.options.net0!.match(/hwaddr=([^,]+)/)![1], 'each CT its own MAC');
  t.match(translate(spec('name=eth0,bridge=vmbr0,hwaddr=02:00:00:00:00:01,host-managed=0'), ctx).config.options.net0, /host-managed=0,hwaddr=02:00:00:00:00:01$/, "the admin's own MAC and host-managed kept");
  t.notOk(translate(spec(undefined), ctx).config.options.net0, 'no annotation, no net0');
  t.throws(() => translate(spec('name=eth0,bridge=vmbr0,ip=10.0.0.2/24'), { ...ctx, pveRelease: () => 8 }), {
    message: `annotations["${ANNOTATION}"]: a PVE net0 for a container needs PVE 9.1's host-managed interfaces; this node runs PVE 8`,
  }, 'a PVE 8 node has no host-managed: refused');

  const field = `annotations["${ANNOTATION}"]: `;
  t.equal(refusal(spec('name=eth0,ip=10.0.0.2')), `${field}ip: invalid format - value does not look like a valid ipv4 network configuration (PVE's rule for net0)`);
  t.equal(refusal(spec('name=eth0,tag=0')), `${field}tag: value must have a minimum value of 1 (PVE's rule for net0)`);
  t.equal(refusal(spec('name=eth0,ip6=auto')), `${field}ip6=auto: SLAAC is not supported for host-managed network configuration (PVE's rule for net0)`, 'SLAAC refused at create, not by a failing pct start');
  t.notOk(refusal(spec('name=eth0,ip6=auto,host-managed=0')), 'SLAAC by the CT itself is PVE\'s business');
  const hostDhcp = (said: string) =>
    `${field}${said} with host-managed=1: PVE 9.1 runs the DHCP client on the host and its script writes the lease's DNS servers through the container's root, following links the container controls; give a static ip=/gw= (ip6=/gw6=), or host-managed=0 to run a DHCP client inside the container`;
  t.equal(refusal(spec('name=eth0,ip=dhcp')), hostDhcp('ip=dhcp'), "DHCP by the host (pxoci's default host-managed=1) refused");
  t.equal(refusal(spec('name=eth0,ip6=dhcp,host-managed=1')), hostDhcp('ip6=dhcp'), 'DHCPv6 by the host refused');
  t.equal(refusal(spec('name=eth0,ip=dhcp,ip6=dhcp,link_down=1')), hostDhcp('ip=dhcp,ip6=dhcp'), "both named; link_down does not stop PVE's start from running the clients");
  t.notOk(refusal(spec('name=eth0,ip=dhcp,ip6=dhcp,host-managed=0')), "DHCP by the CT's own client: PVE runs none");
  t.match(refusal(spec('name=eth0', ['pid', 'ipc', 'uts', 'mount'].map((type) => ({ type }))))!, new RegExp(`^(linux\\.namespaces|${field.replace(/[[\]".]/g, '\\$&')})`), "the host's network refused");
  const joined = refusal(spec('name=eth0', [...privateNs.filter((n) => n.type !== 'network'), { type: 'network', path: '/proc/1/ns/net' }]));
  t.match(joined!, /^(linux\.namespaces\[\d\]\.path|annotations\["org\.proxmox\.pxoci\.net0"\]: a PVE net0 needs the container's own, empty network namespace .* joins \/proc\/1\/ns\/net)/, "an engine's network namespace refused");
});

t.test("vm_start's choice of host-run DHCP clients: host-managed netN, DHCPv4 ones first, keys sorted as strings", async (t) => {
  t.same(
    hostManagedDhcp({
      net2: 'name=c,ip=dhcp,ip6=dhcp,host-managed=1',
      net10: 'name=b,ip=dhcp,host-managed=1,link_down=1',
      net0: 'name=a,ip6=dhcp,ip=10.0.0.2/24,host-managed=1',
      net1: 'name=x,ip=dhcp',
      net3: 'name=y,ip=dhcp,host-managed=0',
      hostname: 'net9',
    }),
    [
      { eth: 'b', ipVersion: 4 },
      { eth: 'c', ipVersion: 4 },
      { eth: 'a', ipVersion: 6 },
      { eth: 'c', ipVersion: 6 },
    ],
  );
  t.equal(dhclientFile('/var/lib/lxc', 100, { eth: 'eth0', ipVersion: 4 }, 'leases'), '/var/lib/lxc/100/hook/dhclient4-eth0.leases');
});

t.test("pvesim says what of a net0 it does not simulate", async (t) => {
  const { warnings, lines } = adaptNetworks(
    [['lxc.net.0.type', 'veth'], ['lxc.net.0.script.up', '/usr/share/lxc/lxcnetaddbr']],
    { net0: 'name=eth0,bridge=vmbr0,firewall=1,rate=5,ip=dhcp,host-managed=1' },
    100,
    '/r',
    '/r/var/lib/lxc/100',
  );
  for (const said of [/^net0: firewall=1: PVE's firewall bridge \(fwbr100i0\)/, /^net0: rate=5 is not enforced/]) {
    t.ok(warnings.some((w) => said.test(w)), `said: ${said}`);
  }
  t.notOk(warnings.some((w) => /dhcp/i.test(w)), 'ip=dhcp is simulated: nothing to warn about');
  t.same(lines[1], ['lxc.net.0.script.up', '/r/var/lib/lxc/100/pvesim-lxcnetaddbr'], "pvesim's up-script in place of PVE's");
  t.same(adaptNetworks([], {}, 100, '/r', '/r/var/lib/lxc/100').lines, [['lxc.net.0.type', 'empty']], 'no netN: only lo');
});

t.test('on the simulated node: the CT on vmbr0 in the node namespace, its httpd reached from there, nothing left', async (t) => {
  const node: SimNode = startSimNode('pvenet');
  t.teardown(() => node.down());
  const work = mkdtempSync(join(tmpdir(), 'pxoci-pvenet-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const netns = join(node.root, 'run/pvesim/node.netns');
  const inNode = (...cmd: string[]) => spawnSync('nsenter', [`--net=${netns}`, ...cmd], { encoding: 'utf8', timeout: 30_000 });
  const hostLinks = () => spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout;

  const bad = makeBundle(work, 'bad', { args: ['true'], patch: (s) => (s.annotations = { [ANNOTATION]: 'name=eth0,bridge=vmbr0,ip=10.213.7.2' }) });
  const r = pxoci(node, ['create', '--bundle', bad, 'bad']);
  t.equal(r.status, 1);
  t.equal(r.stderr, `annotations["${ANNOTATION}"]: ip: invalid format - value does not look like a valid ipv4 network configuration (PVE's rule for net0)\n`, 'one line naming the annotation and the rule');
  t.same(ctConfigs(node), [], 'no CT left');

  const bundle = makeBundle(work, 'web', {
    args: ['sh', '-c', 'mkdir -p /www && echo hello-from-pve-net > /www/index.html && exec httpd -f -p 8080 -h /www'],
    patch: (s) => (s.annotations = { [ANNOTATION]: 'name=eth0,bridge=vmbr0,ip=10.213.7.2/24,gw=10.213.7.1' }),
  });
  const c = createWithPipes(node, 'web', bundle);
  t.equal(await c.exited, 0, `create: ${c.err()}`);
  t.equal(pxoci(node, ['start', 'web']).status, 0);
  const [vmid] = ctConfigs(node);
  const net0 = /^net0: (.*)$/m.exec(confText(node, vmid!))![1]!;
  t.match(net0, /^name=eth0,bridge=vmbr0,gw=10\.213\.7\.1,host-managed=1,hwaddr=BC:24:11(:[0-9A-F]{2}){3},ip=10\.213\.7\.2\/24$/, "PVE's net0 in the CT config");

  t.equal(inNode('ip', 'addr', 'add', '10.213.7.1/24', 'dev', 'vmbr0').status, 0, 'the node gets its address on vmbr0');
  t.match(inNode('ip', '-o', 'link', 'show', 'master', 'vmbr0').stdout, new RegExp(`veth${vmid}i0@`), "the CT's veth is a port of the node's vmbr0");
  t.notMatch(hostLinks(), new RegExp(`veth${vmid}i0|vmbr0`), "neither the veth nor the bridge is in the host's network namespace");
  let page = '';
  await waitUntil(() => (page = inNode('wget', '-q', '-T', '3', '-t', '1', '-O', '-', 'http://10.213.7.2:8080/').stdout) !== '', 20_000);
  t.equal(page, 'hello-from-pve-net\n', "the CT's httpd answers from the node's namespace");
  const inside = pxoci(node, ['exec', 'web', 'cat', '/sys/class/net/eth0/address']);
  t.equal(inside.stdout.trim(), net0.match(/hwaddr=([^,]+)/)![1]!.toLowerCase(), "eth0 has net0's MAC");
  const route = pxoci(node, ['exec', 'web', 'ip', 'route']);
  t.match(route.stdout, /^default via 10\.213\.7\.1 dev eth0/m, 'the gateway from net0');
  const update = pxoci(node, ['update', '--memory', '268435456', 'web']);
  t.equal(update.status, 0, `update of a CT on vmbr0 (the render finds the node's bridge): ${update.stderr}`);
  t.match(confText(node, vmid!), /^memory: 256$/m);
  t.notMatch(spawnSync('ip', ['-o', 'addr'], { encoding: 'utf8' }).stdout, /10\.213\.7/, 'the host has no address of the node');

  t.equal(pxoci(node, ['delete', '--force', 'web']).status, 0);
  t.notMatch(inNode('ip', '-o', 'link').stdout, /veth/, 'no veth left in the node namespace');
  t.same(ctConfigs(node), []);
  spawnSync(process.execPath, [pvesimJs, 'down', '--root', node.root]);
  t.notOk(readFileSync('/proc/self/mountinfo', 'utf8').includes(netns), 'the node namespace unbound by pvesim down');
  t.notOk(existsSync(node.root));
});

t.test('a VLAN the node cannot isolate fails the start, naming it', async (t) => {
  const node: SimNode = startSimNode('pvenet-tag');
  t.teardown(() => node.down());
  const work = mkdtempSync(join(tmpdir(), 'pxoci-pvenet-tag-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const filters = spawnSync('sh', ['-c', 'zcat /proc/config.gz 2>/dev/null | grep -q "^CONFIG_BRIDGE_VLAN_FILTERING=y"']).status === 0;
  if (filters) {
    t.pass('this kernel filters VLANs on bridges: the tag is isolated instead');
    return;
  }
  const bundle = makeBundle(work, 'tagged', { args: ['true'], patch: (s) => (s.annotations = { [ANNOTATION]: 'name=eth0,bridge=vmbr0,ip=10.213.8.2/24,tag=10' }) });
  const c = createWithPipes(node, 'tagged', bundle);
  t.equal(await c.exited, 1);
  t.match(c.err(), /net0: tag=10 needs a VLAN-aware bridge/);
  t.same(ctConfigs(node), [], 'no CT left');
});

/** Every network namespace some process on this machine is in (by inode). */
function liveNetnsInodes(): Set<string> {
  const out = new Set<string>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      out.add(readlinkSync(`/proc/${pid}/ns/net`));
    } catch {
      // gone meanwhile, or a kernel thread
    }
  }
  return out;
}
const nsOf = (pid: number | string, ns: string) => readlinkSync(`/proc/${pid}/ns/${ns}`);
const ctInitPid = (node: SimNode, vmid: number) =>
  Number(/^PID:\s+(\d+)$/m.exec(spawnSync('lxc-info', ['-P', join(node.root, 'var/lib/lxc'), '-n', String(vmid), '-p'], { encoding: 'utf8' }).stdout)![1]);
const inNodeNetns = (node: SimNode, ...cmd: string[]) => spawnSync('nsenter', [`--net=${nodeNetnsPath(node.root)}`, ...cmd], { encoding: 'utf8', timeout: 30_000 });

/**
 * busybox udhcpd on the node's vmbr0, inside the node's network namespace only: the pool
 * <prefix>.50-60/24, the node (<prefix>.1) as router and DNS server.
 */
function startUdhcpd(t: Test, node: SimNode, work: string, prefix: string) {
  ensureNodeNetwork(node.root);
  t.equal(inNodeNetns(node, 'ip', 'addr', 'add', `${prefix}.1/24`, 'dev', 'vmbr0').status, 0, 'the node gets its address on vmbr0');
  const leases = join(work, 'udhcpd.leases');
  writeFileSync(
    join(work, 'udhcpd.conf'),
    ['interface vmbr0', `start ${prefix}.50`, `end ${prefix}.60`, `lease_file ${leases}`, `pidfile ${join(work, 'udhcpd.pid')}`, 'option subnet 255.255.255.0', `option router ${prefix}.1`, `option dns ${prefix}.1`, 'option lease 600', ''].join('\n'),
  );
  writeFileSync(leases, '');
  const server = spawn('nsenter', [`--net=${nodeNetnsPath(node.root)}`, 'busybox', 'udhcpd', '-f', join(work, 'udhcpd.conf')], { stdio: 'ignore' });
  const gone = new Promise((r) => server.once('exit', r));
  t.teardown(() => server.kill('SIGKILL'));
  return {
    /** The server's leases as busybox dumpleases shows them (udhcpd writes them on SIGUSR1). */
    dump: () => {
      server.kill('SIGUSR1');
      return spawnSync('busybox', ['dumpleases', '-f', leases], { encoding: 'utf8' }).stdout;
    },
    stop: async () => {
      server.kill('SIGTERM');
      await gone;
    },
  };
}

/** A CT config written by hand, as a PVE admin would, with a copy of the busybox rootfs as its root. */
function handMadeCt(node: SimNode, work: string, vmid: number, net0: string): void {
  const rootfs = join(work, `rootfs-${vmid}`);
  cpSync(busyboxRootfs(), rootfs, { recursive: true, verbatimSymlinks: true });
  chmodSync(rootfs, 0o755);
  writeFileSync(join(node.root, `etc/pve/lxc/${vmid}.conf`), `arch: amd64\nhostname: handmade\nostype: unmanaged\nrootfs: ${rootfs}\nnet0: ${net0}\nlxc.init.cmd: /bin/sleep 1000\n`);
}
const pctOf = (node: SimNode) => (...args: string[]) => spawnSync(join(node.root, 'usr/sbin/pct'), args, { env: node.env, encoding: 'utf8', timeout: 180_000 });

t.test("pvesim's DHCP step: one client per host-managed interface, DHCPv4 ones first, each failure PVE's warning, in that order", async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'pxoci-dhcp-order-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  // An lxc-attach that fails as dhclient does without a lease, and says in which order it was called.
  const calls = join(work, 'calls');
  const fakeAttach = join(work, 'lxc-attach');
  writeFileSync(fakeAttach, `#!/bin/sh\necho "$*" >> ${calls}\nexit 2\n`, { mode: 0o755 });
  const p = { ...nodePaths(work), lxcBin: () => fakeAttach };
  const warnings: string[] = [];
  startHostDhcp(p, 200, { net1: 'name=eth1,bridge=vmbr0,host-managed=1,ip=dhcp', net0: 'name=eth0,bridge=vmbr0,host-managed=1,ip=dhcp,ip6=dhcp', net2: 'name=eth2,bridge=vmbr0,ip=dhcp,host-managed=0' }, () => 4242, (w) => warnings.push(w));
  const hook = join(work, 'var/lib/lxc/200/hook');
  const command = (v: 4 | 6, eth: string) =>
    `${fakeAttach} -P ${join(work, 'var/lib/lxc')} -n 200 -s 'NETWORK|UTSNAME' -- ${existsSync('/sys/kernel/security/apparmor') ? 'aa-exec -p unconfined ' : ''}/sbin/dhclient -1 -${v} -pf ${hook}/dhclient${v}-${eth}.pid -lf ${hook}/dhclient${v}-${eth}.leases -e ROOTFS=/proc/4242/root -sf /usr/share/lxc/hooks/dhclient-script ${eth}`;
  t.same(
    warnings,
    [command(4, 'eth0'), command(4, 'eth1'), command(6, 'eth0')].map((c) => `WARN: DHCP failed - command '${c}' failed: exit code 2`),
    "PVE's log_warn with run_command's error, for each client in vm_start's order; none for host-managed=0",
  );
  t.equal(readFileSync(calls, 'utf8').split('\n').filter(Boolean).length, 3, 'each client run once, one after the other');
});

t.test('pvesim: a hand-made host-managed CT with ip=dhcp gets its lease from the node\'s DHCP client, as on PVE 9.1', async (t) => {
  const node: SimNode = startSimNode('pvedhcp-lease', { pve: 9 });
  t.teardown(() => node.down());
  const work = mkdtempSync(join(tmpdir(), 'pxoci-pvedhcp-lease-'));
  chmodSync(work, 0o755);
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const server = startUdhcpd(t, node, work, '10.213.9');
  const pct = pctOf(node);
  handMadeCt(node, work, 201, 'name=eth0,bridge=vmbr0,host-managed=1,hwaddr=BC:24:11:00:00:43,ip=dhcp');
  const s = pct('start', '201');
  t.equal(s.status, 0, s.status ? `pct start: ${s.stderr}` : 'pct start');
  t.notMatch(s.stderr, /DHCP failed/, 'the client got a lease: no warning');

  // The client: dhclient, daemonized by pct start, in the CT's network and UTS namespaces only.
  const hook = join(node.root, 'var/lib/lxc/201/hook');
  const pid = Number(readFileSync(join(hook, 'dhclient4-eth0.pid'), 'utf8').trim());
  t.equal(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'dhclient', 'the pid file names a running dhclient');
  const init = ctInitPid(node, 201);
  t.equal(nsOf(pid, 'net'), nsOf(init, 'net'), "in the CT's network namespace");
  t.equal(nsOf(pid, 'uts'), nsOf(init, 'uts'), "in the CT's UTS namespace (it sends the CT's hostname)");
  t.equal(nsOf(pid, 'mnt'), nsOf('self', 'mnt'), "in the node's mount namespace (its files are the node's)");
  t.equal(nsOf(pid, 'pid'), nsOf('self', 'pid'), "in the node's PID namespace");

  const addr = pct('exec', '201', '--', 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0').stdout;
  const leased = /inet (10\.213\.9\.(?:5\d|60))\/24 /.exec(addr)?.[1];
  t.ok(leased, `eth0 has an address from the server's pool: ${addr.trim()}`);
  t.match(readFileSync(join(hook, 'dhclient4-eth0.leases'), 'utf8'), `fixed-address ${leased};`, "the node's lease file has it");
  t.match(pct('exec', '201', '--', 'ip', 'route').stdout, /^default via 10\.213\.9\.1 dev eth0/m, "the lease's router is the default route");
  t.match(pct('exec', '201', '--', 'cat', '/etc/resolv.conf').stdout, /^nameserver 10\.213\.9\.1$/m, "LXC's dhclient-script wrote the lease's DNS server into the CT's /etc/resolv.conf");
  await waitUntil(() => server.dump().includes(leased ?? '-'), 10_000);
  t.match(server.dump(), /handmade/, "the server saw the CT's hostname");

  t.equal(pct('stop', '201').status, 0);
  await waitUntil(() => !existsSync(`/proc/${pid}`), 10_000).catch(() => {});
  t.notOk(existsSync(`/proc/${pid}`), "the post-stop hook killed the CT's DHCP client");
  t.notOk(existsSync(join(hook, 'dhclient4-eth0.pid')), 'and removed its pid file');
  t.notMatch(inNodeNetns(node, 'ip', '-o', 'link').stdout, /veth/, 'no veth left in the node namespace');
  t.equal(pct('destroy', '201').status, 0);
  // PVE's destroy removes var/lib/lxc/<vmid> only when empty: the hook dir and its lease file stay.
  t.ok(existsSync(join(hook, 'dhclient4-eth0.leases')), 'the lease file stays after pct destroy, as on PVE');
  await server.stop();
});

t.test('pvesim: ip=dhcp without a DHCP server: pct start waits for dhclient\'s one try, warns and succeeds, as PVE does', async (t) => {
  const node: SimNode = startSimNode('pvedhcp-none', { pve: 9 });
  t.teardown(() => node.down());
  const work = mkdtempSync(join(tmpdir(), 'pxoci-pvedhcp-none-'));
  chmodSync(work, 0o755);
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const pct = pctOf(node);
  handMadeCt(node, work, 200, 'name=eth0,bridge=vmbr0,host-managed=1,hwaddr=BC:24:11:00:00:42,ip=dhcp');
  const hook = join(node.root, 'var/lib/lxc/200/hook');
  const began = Date.now();
  const s = pct('start', '200');
  const took = (Date.now() - began) / 1000;
  t.equal(s.status, 0, 'the start succeeds');
  t.match(
    s.stderr,
    new RegExp(`^WARN: DHCP failed - command '/usr/bin/lxc-attach -P \\S+ -n 200 -s 'NETWORK\\|UTSNAME' -- (aa-exec -p unconfined )?/sbin/dhclient -1 -4 -pf ${hook}/dhclient4-eth0\\.pid -lf ${hook}/dhclient4-eth0\\.leases -e ROOTFS=/proc/\\d+/root -sf /usr/share/lxc/hooks/dhclient-script eth0' failed: exit code 2$`, 'm'),
    "PVE's log_warn with run_command's error: dhclient gave up",
  );
  t.ok(took >= 50, `start waited for dhclient's timeout (60 s by default): ${took.toFixed(1)} s`);
  t.equal(pct('status', '200').stdout, 'status: running\n');
  t.equal(pct('exec', '200', '--', 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0').stdout, '', 'eth0 has no IPv4 address');
  t.notOk(existsSync(join(hook, 'dhclient4-eth0.pid')), 'no DHCP client stays');
  t.same(processesMentioning(hook), [], 'no dhclient process');
  t.equal(pct('stop', '200').status, 0);
  t.equal(pct('destroy', '200').status, 0);
});

t.test('pxoci refuses a net0 that PVE would give a DHCP client on the host: by name, at create, nothing left', async (t) => {
  const node: SimNode = startSimNode('pvedhcp-refused');
  t.teardown(() => node.down());
  const work = mkdtempSync(join(tmpdir(), 'pxoci-pvedhcp-refused-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  for (const [name, net0, said] of [
    ['v4', 'name=eth0,bridge=vmbr0,ip=dhcp', 'ip=dhcp'],
    ['v6', 'name=eth0,bridge=vmbr0,ip6=dhcp,host-managed=1', 'ip6=dhcp'],
  ] as const) {
    const bundle = makeBundle(work, name, { args: ['true'], patch: (s) => (s.annotations = { [ANNOTATION]: net0 }) });
    const log = join(work, `${name}.log`);
    const r = pxoci(node, ['--log', log, '--log-format', 'json', 'create', '--bundle', bundle, name]);
    t.equal(r.status, 1, `${net0}: exit 1`);
    const line = `annotations["${ANNOTATION}"]: ${said} with host-managed=1: PVE 9.1 runs the DHCP client on the host and its script writes the lease's DNS servers through the container's root, following links the container controls; give a static ip=/gw= (ip6=/gw6=), or host-managed=0 to run a DHCP client inside the container`;
    t.equal(r.stderr, `${line}\n`, 'one line naming the annotation, the rule and the way out');
    t.match(JSON.parse(readFileSync(log, 'utf8').trim()), { level: 'error', msg: line }, 'one --log record');
    t.equal(pxoci(node, ['state', name]).status, 1, 'no container');
  }
  t.same(ctConfigs(node), [], 'no CT config');
  t.same(existsSync(join(node.root, 'var/lib/lxc')) ? readdirSync(join(node.root, 'var/lib/lxc')) : [], [], 'nothing in var/lib/lxc');
  t.same(readdirSync(node.stateRoot).filter((e) => e !== '@owner-key'), [], 'no state entry (the state root\'s owner key stays)');
});

t.test('ip=dhcp,host-managed=0: PVE runs no client, the container runs its own (busybox udhcpc), gets a lease, its httpd answers there, nothing left after delete', async (t) => {
  const node: SimNode = startSimNode('pvedhcp');
  t.teardown(() => node.down());
  const work = mkdtempSync(join(tmpdir(), 'pxoci-pvedhcp-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const server = startUdhcpd(t, node, work, '10.213.10');

  const caps = ['CAP_NET_ADMIN', 'CAP_NET_RAW']; // an interface's address and route; udhcpc's packet socket
  const bundle = makeBundle(work, 'web', {
    args: ['sh', '-c', 'udhcpc -f -q -n -t 10 -T 2 -i eth0 -s /udhcpc.script && mkdir -p /www && echo hello-over-own-dhcp > /www/index.html && exec httpd -f -p 8080 -h /www'],
    patch: (s) => {
      s.annotations = { [ANNOTATION]: 'name=eth0,bridge=vmbr0,ip=dhcp,host-managed=0' };
      s.process.capabilities = { bounding: caps, effective: caps, permitted: caps };
    },
  });
  // busybox's default script (/usr/share/udhcpc/default.script) is not in this rootfs: the image brings its own.
  writeFileSync(
    join(bundle, 'rootfs/udhcpc.script'),
    [
      '#!/bin/sh',
      'case "$1" in',
      '  deconfig) ip link set dev "$interface" up && ip -4 addr flush dev "$interface" ;;',
      '  bound|renew) ip -4 addr flush dev "$interface" && ip addr add "$ip/$mask" dev "$interface" && ip route replace default via "${router%% *}" dev "$interface" ;;',
      'esac',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const c = createWithPipes(node, 'web', bundle);
  t.equal(await c.exited, 0, `create: ${c.err()}`);
  t.notMatch(c.err(), /DHCP/, 'no DHCP warning from pct start');
  const [vmid] = ctConfigs(node);
  t.match(/^net0: (.*)$/m.exec(confText(node, vmid!))![1], /^name=eth0,bridge=vmbr0,host-managed=0,hwaddr=BC:24:11(:[0-9A-F]{2}){3},ip=dhcp$/);
  const hook = join(node.root, 'var/lib/lxc', String(vmid), 'hook');
  t.notOk(existsSync(hook), 'PVE ran no DHCP client for the CT: no hook dir, no pid or lease file');
  t.same(processesMentioning('dhclient').filter((p) => p.includes(`/${vmid}/`)), [], 'no dhclient for the CT');

  t.equal(pxoci(node, ['start', 'web']).status, 0);
  let addr = '';
  await waitUntil(() => /inet 10\.213\.10\./.test((addr = pxoci(node, ['exec', 'web', 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']).stdout)), 30_000).catch(() => {});
  const leased = /inet (10\.213\.10\.(?:5\d|60))\/24 /.exec(addr)?.[1];
  t.ok(leased, `eth0 has an address from the server's pool, set by the container's own client: ${addr.trim()}`);
  t.match(pxoci(node, ['exec', 'web', 'ip', 'route']).stdout, /^default via 10\.213\.10\.1 dev eth0/m, "the lease's router is the default route");
  t.match(server.dump(), leased ?? '-', 'the server gave that lease');
  let page = '';
  await waitUntil(() => (page = inNodeNetns(node, 'wget', '-q', '-T', '3', '-t', '1', '-O', '-', `http://${leased}:8080/`).stdout) !== '', 20_000).catch(() => {});
  t.equal(page, 'hello-over-own-dhcp\n', "the CT's httpd answers at the leased address, from the node's namespace");
  const ctNetns = nsOf(ctInitPid(node, vmid!), 'net');

  t.equal(pxoci(node, ['delete', '--force', 'web']).status, 0);
  t.same(ctConfigs(node), [], 'no CT config');
  t.same(readdirSync(join(node.root, 'var/lib/lxc')), [], 'nothing in var/lib/lxc');
  t.notMatch(inNodeNetns(node, 'ip', '-o', 'link').stdout, /veth/, 'no veth left in the node namespace');
  await waitUntil(() => !liveNetnsInodes().has(ctNetns), 10_000).catch(() => {});
  t.notOk(liveNetnsInodes().has(ctNetns), "no process keeps the CT's network namespace");
  await server.stop();
});
