// PVE-native networking: the annotation org.proxmox.pxoci.net0 gives a CT without the engine's network a
// PVE net0, checked by PVE's rules; on the simulated node its veth lands on vmbr0 in the node's own
// network namespace, where a server in the CT answers.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateSpec } from '../src/oci/bundle.js';
import { translate, type TranslateContext } from '../src/oci/translate.js';
import { parsePropertyString } from '../src/pve/config.js';
import { dhclientFile, hostManagedDhcp } from '../src/pve/host-dhcp.js';
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
  const again = translate(spec('name=eth0,bridge=vmbr0,ip=dhcp'), ctx).config.options.net0!;
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
  t.notOk(refusal(spec('name=eth0,ip=dhcp,ip6=dhcp')), 'DHCP for both');
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

t.test('ip=dhcp: the node runs the CT\'s DHCP client as PVE 9.1 does; eth0 gets the lease, the httpd answers there, nothing left after delete', async (t) => {
  const node: SimNode = startSimNode('pvedhcp');
  t.teardown(() => node.down());
  const work = mkdtempSync(join(tmpdir(), 'pxoci-pvedhcp-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const netns = nodeNetnsPath(node.root);
  const inNode = (...cmd: string[]) => spawnSync('nsenter', [`--net=${netns}`, ...cmd], { encoding: 'utf8', timeout: 30_000 });

  // The DHCP server: busybox udhcpd on the node's vmbr0, inside the node's namespace only.
  ensureNodeNetwork(node.root);
  t.equal(inNode('ip', 'addr', 'add', '10.213.9.1/24', 'dev', 'vmbr0').status, 0);
  const leases = join(work, 'udhcpd.leases');
  writeFileSync(
    join(work, 'udhcpd.conf'),
    ['interface vmbr0', 'start 10.213.9.50', 'end 10.213.9.60', `lease_file ${leases}`, `pidfile ${join(work, 'udhcpd.pid')}`, 'option subnet 255.255.255.0', 'option router 10.213.9.1', 'option dns 10.213.9.1', 'option lease 600', ''].join('\n'),
  );
  writeFileSync(leases, '');
  const server = spawn('nsenter', [`--net=${netns}`, 'busybox', 'udhcpd', '-f', join(work, 'udhcpd.conf')], { stdio: 'ignore' });
  const serverGone = new Promise((r) => server.once('exit', r));
  t.teardown(() => server.kill('SIGKILL'));

  // A create that fails once the CT runs (a createRuntime hook fails) rolls back the client and its lease.
  const broken = makeBundle(work, 'broken', { args: ['true'], patch: (s) => ((s.annotations = { [ANNOTATION]: 'name=eth0,bridge=vmbr0,ip=dhcp' }), (s.hooks = { createRuntime: [{ path: '/bin/false' }] })) });
  const b = createWithPipes(node, 'broken', broken);
  t.equal(await b.exited, 1, `a create that fails: ${b.err().trim()}`);
  t.same(ctConfigs(node), [], 'no CT left');
  t.same(readdirSync(join(node.root, 'var/lib/lxc')), [], 'nothing in var/lib/lxc: no hook dir, no lease file');
  t.same(processesMentioning(join(node.root, 'var/lib/lxc')), [], 'no DHCP client (nor any other process) of the failed CT');

  const bundle = makeBundle(work, 'web', {
    args: ['sh', '-c', 'mkdir -p /www && echo hello-over-dhcp > /www/index.html && exec httpd -f -p 8080 -h /www'],
    patch: (s) => (s.annotations = { [ANNOTATION]: 'name=eth0,bridge=vmbr0,ip=dhcp' }),
  });
  const c = createWithPipes(node, 'web', bundle);
  t.equal(await c.exited, 0, `create: ${c.err()}`);
  const [vmid] = ctConfigs(node);
  const hook = join(node.root, 'var/lib/lxc', String(vmid), 'hook');
  t.match(/^net0: (.*)$/m.exec(confText(node, vmid!))![1], /^name=eth0,bridge=vmbr0,host-managed=1,hwaddr=BC:24:11(:[0-9A-F]{2}){3},ip=dhcp$/);

  // The client: dhclient, daemonized by pct start, in the CT's network and UTS namespaces only.
  const pid = Number(readFileSync(join(hook, 'dhclient4-eth0.pid'), 'utf8').trim());
  t.equal(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'dhclient', 'the pid file names a running dhclient');
  const init = ctInitPid(node, vmid!);
  t.equal(nsOf(pid, 'net'), nsOf(init, 'net'), "in the CT's network namespace");
  t.equal(nsOf(pid, 'uts'), nsOf(init, 'uts'), "in the CT's UTS namespace (it sends the CT's hostname)");
  t.equal(nsOf(pid, 'mnt'), nsOf('self', 'mnt'), "in the node's mount namespace (its files are the node's)");
  t.equal(nsOf(pid, 'pid'), nsOf('self', 'pid'), "in the node's PID namespace");
  const ctNetns = nsOf(init, 'net');

  t.equal(pxoci(node, ['start', 'web']).status, 0);
  const addr = pxoci(node, ['exec', 'web', 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']).stdout;
  const leased = /inet (10\.213\.9\.(?:5\d|60))\/24 /.exec(addr)?.[1];
  t.ok(leased, `eth0 has an address from the server's pool: ${addr.trim()}`);
  t.match(readFileSync(join(hook, 'dhclient4-eth0.leases'), 'utf8'), new RegExp(`fixed-address ${leased?.replace(/\./g, '\\.')};`), "the node's lease file has it");
  t.match(pxoci(node, ['exec', 'web', 'cat', '/proc/net/fib_trie']).stdout, new RegExp(`${leased?.replace(/\./g, '\\.')}\\n\\s+/32 host LOCAL`), "the CT's kernel has it as a local address");
  t.match(pxoci(node, ['exec', 'web', 'ip', 'route']).stdout, /^default via 10\.213\.9\.1 dev eth0/m, "the lease's router is the default route");
  t.match(pxoci(node, ['exec', 'web', 'cat', '/etc/resolv.conf']).stdout, /^nameserver 10\.213\.9\.1$/m, "LXC's dhclient-script wrote the lease's DNS server into the CT's /etc/resolv.conf");
  server.kill('SIGUSR1'); // udhcpd writes its leases now
  await waitUntil(() => spawnSync('busybox', ['dumpleases', '-f', leases], { encoding: 'utf8' }).stdout.includes(leased ?? '-'), 10_000);
  t.match(spawnSync('busybox', ['dumpleases', '-f', leases], { encoding: 'utf8' }).stdout, /pxoci-test/, "the server saw the CT's hostname");

  let page = '';
  await waitUntil(() => (page = inNode('wget', '-q', '-T', '3', '-t', '1', '-O', '-', `http://${leased}:8080/`).stdout) !== '', 20_000);
  t.equal(page, 'hello-over-dhcp\n', "the CT's httpd answers at the leased address, from the node's namespace");

  t.equal(pxoci(node, ['delete', '--force', 'web']).status, 0);
  await waitUntil(() => !existsSync(`/proc/${pid}`), 10_000).catch(() => {});
  t.notOk(existsSync(`/proc/${pid}`), 'no DHCP client left');
  t.notOk(existsSync(join(hook, 'dhclient4-eth0.leases')), 'no lease file left');
  t.notOk(existsSync(join(node.root, 'var/lib/lxc', String(vmid))), "no var/lib/lxc/<vmid> (PVE's destroy removes it once empty)");
  t.notMatch(inNode('ip', '-o', 'link').stdout, /veth/, 'no veth left in the node namespace');
  await waitUntil(() => !liveNetnsInodes().has(ctNetns), 10_000).catch(() => {});
  t.notOk(liveNetnsInodes().has(ctNetns), "no process keeps the CT's network namespace");
  t.same(ctConfigs(node), []);
  server.kill('SIGTERM');
  await serverGone;
});

t.test('ip=dhcp and ip6=dhcp without a DHCP server: pct start waits for each dhclient\'s one try, warns and succeeds, as PVE does', async (t) => {
  const node: SimNode = startSimNode('pvedhcp-none', { pve: 9 });
  t.teardown(() => node.down());
  const work = mkdtempSync(join(tmpdir(), 'pxoci-pvedhcp-none-'));
  chmodSync(work, 0o755);
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const rootfs = join(work, 'rootfs');
  cpSync(busyboxRootfs(), rootfs, { recursive: true, verbatimSymlinks: true });
  chmodSync(rootfs, 0o755);
  const pct = (...args: string[]) => spawnSync(join(node.root, 'usr/sbin/pct'), args, { env: node.env, encoding: 'utf8', timeout: 180_000 });
  writeFileSync(
    join(node.root, 'etc/pve/lxc/200.conf'),
    `arch: amd64\nhostname: nodhcp\nostype: unmanaged\nrootfs: ${rootfs}\nnet0: name=eth0,bridge=vmbr0,host-managed=1,hwaddr=BC:24:11:00:00:42,ip=dhcp,ip6=dhcp\nlxc.init.cmd: /bin/sleep 1000\n`,
  );
  const hook = join(node.root, 'var/lib/lxc/200/hook');
  const began = Date.now();
  const s = pct('start', '200');
  const took = (Date.now() - began) / 1000;
  t.equal(s.status, 0, 'the start succeeds');
  const failed = (v: 4 | 6) =>
    `WARN: DHCP failed - command '/usr/bin/lxc-attach -P \\S+ -n 200 -s 'NETWORK\\|UTSNAME' -- /sbin/dhclient -1 -${v} -pf ${hook}/dhclient${v}-eth0\\.pid -lf ${hook}/dhclient${v}-eth0\\.leases -e ROOTFS=/proc/\\d+/root -sf /usr/share/lxc/hooks/dhclient-script eth0' failed: exit code 2`;
  t.match(s.stderr, new RegExp(`^${failed(4)}\\n${failed(6)}$`, 'm'), "PVE's log_warn with run_command's error, DHCPv4 first, then DHCPv6");
  t.ok(took >= 100, `start waited for each dhclient's timeout (60 s by default): ${took.toFixed(1)} s`);
  t.equal(pct('status', '200').stdout, 'status: running\n');
  t.equal(pct('exec', '200', '--', 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0').stdout, '', 'eth0 has no IPv4 address');
  t.notOk(existsSync(join(hook, 'dhclient4-eth0.pid')) || existsSync(join(hook, 'dhclient6-eth0.pid')), 'no DHCP client stays');
  t.same(processesMentioning(hook), [], 'no dhclient process');
  t.equal(pct('stop', '200').status, 0);
  t.equal(pct('destroy', '200').status, 0);
  // PVE's destroy removes var/lib/lxc/<vmid> only when empty: the hook dir and its lease file stay.
  t.ok(existsSync(join(hook, 'dhclient4-eth0.leases')) && existsSync(join(hook, 'dhclient6-eth0.leases')), "the lease files stay after pct destroy, as on PVE (pxoci's delete removes them)");
});
