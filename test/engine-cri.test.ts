// Kubernetes pods through containerd 1.6's CRI plugin, driven the way the kubelet drives it (gRPC calls,
// test/helpers/cri.ts), on runc and on pxoci side by side: a pod sandbox, two containers that share its
// network, IPC and UTS namespaces and talk over 127.0.0.1, exec, status, stop and removal.
//
// The containerd is private to this test: its own root, state and socket, CNI config and IPAM data in a
// temp dir, and its own mount namespace, where private dirs are bound over the two host paths that
// containerd 1.6 hard-codes (/run/containerd/s for shim sockets, /var/lib/cni/results for CNI results).
// Pod network namespaces stay under its state dir. The CNI bridge (no masquerade, a private subnet) is
// the one thing it makes in the host's network namespace: the test deletes it.
import t, { type Test } from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CriClient, type PodSandboxConfig } from './helpers/cri.js';
import { busyboxRootfs, runtimeWrapper, startSimNode, type SimNode } from './helpers/env.js';
import { dockerArchive } from './helpers/images.js';
import { ctConfigs, pctList, processesMentioning } from './helpers/node-checks.js';
import { decodeText } from '../src/pve/config.js';
import { sleep } from './helpers/wait.js';

const needed = ['/usr/bin/containerd', '/usr/bin/ctr', '/usr/sbin/runc', '/usr/lib/cni/bridge', '/usr/lib/cni/host-local', '/usr/lib/cni/loopback'];
const missing = needed.filter((p) => !existsSync(p));
if (missing.length) {
  t.fail(`not installed: ${missing.join(', ')} (scripts/install-deps.sh installs them)`);
  process.exit(1);
}

const node: SimNode = startSimNode('cri');
const work = mkdtempSync(join(tmpdir(), 'pxoci-cri-'));
const socket = join(work, 'containerd.sock');
const wrapper = runtimeWrapper(node, work);
const containerdLog = join(work, 'containerd.log');
const SUBNET = '10.213.47.0/24';
// A Linux interface name has at most 15 characters; a pid has at most 7 digits.
const bridge = `pxcri${process.pid}`;
// runc puts each container in <cgroup_parent>/<id> of every hierarchy; the test removes the parent.
const cgroupParent = `/pxoci-cri-test-${process.pid}`;
const PAUSE_IMAGE = 'docker.io/library/pxoci-pause:cri-test';
const BUSYBOX_IMAGE = 'docker.io/library/pxoci-busybox:cri-test';
/** The host paths containerd 1.6 uses whatever its config says, and the private dirs bound over them. */
const boundOver: Record<string, string> = { '/run/containerd/s': join(work, 'shim-sockets'), '/var/lib/cni/results': join(work, 'cni-results') };
/** The directories the bind mounts need that the host lacks (deepest first): the test removes them. */
const madeOnHost = Object.keys(boundOver).flatMap((p) => {
  const missing: string[] = [];
  for (let d = p; !existsSync(d); d = dirname(d)) missing.push(d);
  return missing;
});

function writeConfigs(): string {
  const cniConf = join(work, 'cni-conf');
  mkdirSync(cniConf);
  writeFileSync(
    join(cniConf, '10-pxoci-cri-test.conflist'),
    JSON.stringify({
      cniVersion: '1.0.0',
      name: 'pxoci-cri-test',
      plugins: [{ type: 'bridge', bridge, isGateway: false, ipMasq: false, ipam: { type: 'host-local', ranges: [[{ subnet: SUBNET }]], dataDir: join(work, 'cni-ipam') } }],
    }),
  );
  const cri = '[plugins."io.containerd.grpc.v1.cri"';
  const runtime = (name: string, binary: string) => [
    `${cri}.containerd.runtimes.${name}]`,
    '  runtime_type = "io.containerd.runc.v2"',
    `${cri}.containerd.runtimes.${name}.options]`,
    `  BinaryName = "${binary}"`,
    // The runtime's --root: <Root>/k8s.io, in the temp dir rather than /run/containerd/runc.
    `  Root = "${join(work, `${name}-root`)}"`,
  ];
  const config = join(work, 'config.toml');
  writeFileSync(
    config,
    [
      'version = 2',
      `root = "${join(work, 'root')}"`,
      `state = "${join(work, 'state')}"`,
      // The opt plugin would create /opt/containerd on the host.
      'disabled_plugins = ["io.containerd.internal.v1.opt"]',
      '[grpc]',
      `  address = "${socket}"`,
      `${cri}]`,
      `  sandbox_image = "${PAUSE_IMAGE}"`,
      // This VM has no CAP_SYS_RESOURCE: the pause container's oomScoreAdj -998 would fail to apply.
      '  restrict_oom_score_adj = true',
      '  netns_mounts_under_state_dir = true',
      `${cri}.containerd]`,
      '  default_runtime_name = "runc"',
      ...runtime('runc', '/usr/sbin/runc'),
      ...runtime('pxoci', wrapper),
      `${cri}.cni]`,
      '  bin_dir = "/usr/lib/cni"',
      `  conf_dir = "${cniConf}"`,
      '',
    ].join('\n'),
  );
  return config;
}

let daemon: ChildProcess | undefined;
let daemonExit: Promise<void> | undefined;
const cri = new CriClient(socket);

function ctr(args: string[]) {
  return spawnSync('/usr/bin/ctr', ['--address', socket, '--namespace', 'k8s.io', ...args], { encoding: 'utf8', timeout: 120_000 });
}

t.before(async () => {
  const config = writeConfigs();
  const binds = Object.entries(boundOver)
    .map(([target, source]) => `mkdir -p '${source}' '${target}' && mount --bind '${source}' '${target}'`)
    .join(' && ');
  const log = openSync(containerdLog, 'a');
  daemon = spawn('/usr/bin/unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `${binds} && exec /usr/bin/containerd --config '${config}'`], { stdio: ['ignore', log, log] });
  daemonExit = new Promise((resolve) => daemon!.on('exit', () => resolve()));
  // The socket appears before the CRI plugin serves: Version answers once it does.
  let version: Error | undefined;
  for (let i = 0; i < 150; i++) {
    try {
      await cri.version();
      version = undefined;
      break;
    } catch (e) {
      version = e as Error;
      await sleep(200);
    }
  }
  if (version) throw new Error(`containerd's CRI does not answer: ${version.message}\n${readFileSync(containerdLog, 'utf8').slice(-3000)}`);
  const rootfs = busyboxRootfs();
  // The pause image is busybox too: a shell that waits and leaves on SIGTERM, as the real pause does.
  dockerArchive(rootfs, 'pxoci-pause:cri-test', join(work, 'pause.tar'), { Entrypoint: ['/bin/sh', '-c', "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"] });
  dockerArchive(rootfs, 'pxoci-busybox:cri-test', join(work, 'busybox.tar'), { Cmd: ['sh'] });
  for (const archive of ['pause.tar', 'busybox.tar']) {
    const r = ctr(['images', 'import', join(work, archive)]);
    if (r.status !== 0) throw new Error(`ctr images import ${archive}: ${r.stderr}`);
  }
});

t.teardown(() => {
  cri.close();
  daemon?.kill('SIGKILL');
  spawnSync('ip', ['link', 'del', bridge], { encoding: 'utf8' });
  removeCgroupParent();
  for (const p of madeOnHost) rmdirQuietly(p);
  node.down();
  rmSync(work, { recursive: true, force: true });
});

function rmdirQuietly(p: string): void {
  try {
    rmdirSync(p);
  } catch {
    // not there, or in use by someone else: not ours to remove
  }
}

/** Every cgroup hierarchy's copy of the pod's cgroup parent (runc made them), removed. */
function cgroupParentDirs(): string[] {
  return readdirSync('/sys/fs/cgroup').map((h) => join('/sys/fs/cgroup', h, cgroupParent)).filter((d) => existsSync(d));
}
function removeCgroupParent(): void {
  for (const d of cgroupParentDirs()) rmdirQuietly(d);
}

const GREETING = 'grüße aus dem Pod ✓';
const CLIENT_LOOP = "trap 'exit 0' TERM; while :; do sleep 0.2; done";
// httpd on the loopback address only: the client reaches it only from inside the pod's network namespace.
const SERVER = 'mkdir -p /www && printf "%s\\n" "$GREETING" > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www';
const KUBELET_NAMESPACES = { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } as const;
const NAMESPACES = ['net', 'ipc', 'uts', 'pid', 'mnt'] as const;
const NS_OF_SELF = `for n in ${NAMESPACES.join(' ')}; do echo "$n $(readlink /proc/self/ns/$n)"; done`;

/** `n net:[4026…]` lines → { net: 'net:[4026…]', … }. */
function nsMap(text: string): Record<string, string> {
  return Object.fromEntries(text.trim().split('\n').map((l) => l.split(' ') as [string, string]));
}

/** What containerd says of a sandbox in PodSandboxStatus's verbose "info". */
interface SandboxInfo {
  pid?: number;
  runtimeSpec?: { linux?: { namespaces?: Array<{ type: string; path?: string }> } };
}

interface PodFacts {
  version: { runtimeName: string; runtimeApiVersion: string };
  exec: { stdout: string; stderr: string; exitCode: number };
  env: string;
  page: string;
  hostnames: string[];
  shared: Record<string, boolean>;
  network: Record<string, boolean>;
  running: string[];
  runningStatus: { state: string; name: string; image: string; started: boolean };
  stopped: Array<{ name: string; state: string; exitCode: number; reason: string }>;
  afterRemove: { containers: number; sandboxes: number };
}

/** The pod flow on runtime handler `runtime`; returns what the CRI reported, which must not depend on the
 *  runtime. `during` looks at the running pod from outside (pxoci's CTs). */
async function podFlow(t: Test, runtime: 'runc' | 'pxoci', during?: (ids: { pod: string; server: string; client: string }) => void): Promise<PodFacts> {
  const version = await cri.version();
  const sandboxConfig: PodSandboxConfig = {
    metadata: { name: `web-${runtime}`, uid: `uid-${runtime}-${process.pid}`, namespace: 'pxoci-test', attempt: 0 },
    hostname: `web-${runtime}`,
    logDirectory: join(work, 'logs', runtime),
    labels: { app: 'web' },
    // What the kubelet asks for a pod without shareProcessNamespace.
    linux: { cgroupParent, securityContext: { namespaceOptions: { ...KUBELET_NAMESPACES } } },
  };
  const pod = await cri.runPodSandbox(sandboxConfig, runtime);
  try {
    return await podInside(t, runtime, pod, sandboxConfig, version, during);
  } catch (e) {
    // A failed step still takes the pod down, so the leftovers check below judges pxoci, not this test.
    await cri.stopPodSandbox(pod).catch(() => {});
    await cri.removePodSandbox(pod).catch(() => {});
    throw e;
  }
}

async function podInside(
  t: Test,
  runtime: string,
  pod: string,
  sandboxConfig: PodSandboxConfig,
  version: { runtimeName: string; runtimeApiVersion: string },
  during?: (ids: { pod: string; server: string; client: string }) => void,
): Promise<PodFacts> {
  const container = (name: string, script: string, env: Record<string, string> = {}) => ({
    metadata: { name, attempt: 0 },
    image: { image: BUSYBOX_IMAGE },
    command: ['sh', '-c', script],
    env,
    logPath: `${name}.log`,
    linux: { securityContext: { namespaceOptions: { ...KUBELET_NAMESPACES } } },
  });
  const server = await cri.createContainer(pod, container('server', SERVER, { GREETING }), sandboxConfig);
  const client = await cri.createContainer(pod, container('client', CLIENT_LOOP), sandboxConfig);
  await cri.startContainer(server);
  await cri.startContainer(client);

  const exec = await cri.execSync(client, ['sh', '-c', 'echo out; echo err >&2; exit 3']);
  const env = (await cri.execSync(server, ['sh', '-c', 'printf %s "$GREETING"'])).stdout;
  // httpd may still be starting: the client tries for up to 5 s.
  const fetch = await cri.execSync(client, ['sh', '-c', 'for i in $(seq 50); do wget -q -O - http://127.0.0.1:8080/ && exit 0; sleep 0.1; done; exit 1']);
  t.equal(fetch.exitCode, 0, `${runtime}: the client reached the server over 127.0.0.1 (${fetch.stderr})`);
  const hostnames = [(await cri.execSync(server, ['hostname'])).stdout.trim(), (await cri.execSync(client, ['hostname'])).stdout.trim()];

  // Namespaces, seen from inside each container and from the host at the sandbox's pid.
  const nsServer = nsMap((await cri.execSync(server, ['sh', '-c', NS_OF_SELF])).stdout);
  const nsClient = nsMap((await cri.execSync(client, ['sh', '-c', NS_OF_SELF])).stdout);
  const sandboxInfo = JSON.parse((await cri.podSandboxStatus(pod, true)).info.info ?? '{}') as SandboxInfo;
  const sandboxPid = sandboxInfo.pid;
  t.ok(sandboxPid && sandboxPid > 0, `${runtime}: the sandbox's pid (${sandboxPid})`);
  // The pod's network namespace, which containerd made and mounted under its state dir.
  const netns = sandboxInfo.runtimeSpec?.linux?.namespaces?.find((n) => n.type === 'network')?.path ?? '';
  t.match(netns, new RegExp(`^${join(work, 'state')}/.*/cni-[-0-9a-f]+$`), `${runtime}: the sandbox joins a network namespace under containerd's state dir`);
  const nsSandbox = Object.fromEntries(NAMESPACES.map((n) => [n, readlinkSync(`/proc/${sandboxPid}/ns/${n}`)]));
  // The namespace file is a mount in containerd's mount namespace: its inode is read there.
  const netnsInode = spawnSync('nsenter', [`--mount=/proc/${daemon!.pid}/ns/mnt`, 'stat', '-L', '-c', '%i', netns], { encoding: 'utf8' }).stdout.trim();
  // The address CNI gave the pod, on the containers' eth0.
  const podIp = (await cri.podSandboxStatus(pod)).status.network?.ip ?? '';
  const eth0 = (await cri.execSync(client, ['ip', '-o', '-4', 'addr', 'show', 'eth0'])).stdout;
  const network = {
    'the sandbox is in the network namespace CNI set up': nsSandbox.net === `net:[${netnsInode}]`,
    [`the pod's address is in ${SUBNET}`]: podIp.startsWith(SUBNET.replace(/0\/24$/, '')),
    "the client's eth0 has the pod's address": eth0.includes(` ${podIp}/24 `),
  };
  const shared: Record<string, boolean> = {};
  for (const n of NAMESPACES) {
    shared[`${n}: server = client`] = nsServer[n] === nsClient[n];
    shared[`${n}: server = sandbox`] = nsServer[n] === nsSandbox[n];
    shared[`${n}: client = sandbox`] = nsClient[n] === nsSandbox[n];
    shared[`${n}: server = host`] = nsServer[n] === readlinkSync(`/proc/self/ns/${n}`);
  }

  const status = (await cri.containerStatus(server)).status;
  const listed = await cri.listContainers({ podSandboxId: pod });
  during?.({ pod, server, client });

  // httpd ignores SIGTERM as pid 1: StopContainer kills it after the timeout. The client's loop leaves.
  await cri.stopContainer(server, 1);
  await cri.stopContainer(client, 10);
  const stopped = [];
  for (const id of [server, client]) {
    const s = (await cri.containerStatus(id)).status;
    stopped.push({ name: s.metadata.name, state: s.state, exitCode: s.exitCode, reason: s.reason });
  }
  await cri.stopPodSandbox(pod);
  await cri.removePodSandbox(pod);
  t.notOk(existsSync(netns), `${runtime}: the pod's network namespace is gone`);
  return {
    version: { runtimeName: version.runtimeName, runtimeApiVersion: version.runtimeApiVersion },
    exec,
    env,
    page: fetch.stdout,
    hostnames,
    shared,
    network,
    running: listed.map((c) => `${c.metadata.name} ${c.state}`).sort(),
    runningStatus: { state: status.state, name: status.metadata.name, image: status.image.image, started: status.startedAt > 0 },
    stopped,
    afterRemove: { containers: (await cri.listContainers({ podSandboxId: pod })).length, sandboxes: (await cri.listPodSandbox(pod)).length },
  };
}

const expected: PodFacts = {
  version: { runtimeName: 'containerd', runtimeApiVersion: 'v1' },
  exec: { stdout: 'out\n', stderr: 'err\n', exitCode: 3 },
  env: GREETING,
  page: `${GREETING}\n`,
  hostnames: ['web-RUNTIME', 'web-RUNTIME'],
  shared: Object.fromEntries(
    NAMESPACES.flatMap((n) => {
      const pod = n === 'net' || n === 'ipc' || n === 'uts';
      return [[`${n}: server = client`, pod], [`${n}: server = sandbox`, pod], [`${n}: client = sandbox`, pod], [`${n}: server = host`, false]];
    }),
  ),
  network: {
    'the sandbox is in the network namespace CNI set up': true,
    [`the pod's address is in ${SUBNET}`]: true,
    "the client's eth0 has the pod's address": true,
  },
  running: ['client CONTAINER_RUNNING', 'server CONTAINER_RUNNING'],
  runningStatus: { state: 'CONTAINER_RUNNING', name: 'server', image: BUSYBOX_IMAGE, started: true },
  stopped: [
    { name: 'server', state: 'CONTAINER_EXITED', exitCode: 137, reason: 'Error' },
    { name: 'client', state: 'CONTAINER_EXITED', exitCode: 0, reason: 'Completed' },
  ],
  afterRemove: { containers: 0, sandboxes: 0 },
};
const expectedFor = (runtime: string): PodFacts => {
  const facts = { ...expected, hostnames: expected.hostnames.map((h) => h.replace('RUNTIME', runtime)) };
  // A documented difference (README, "Differences from runc"): under runc httpd is PID 1 of its pid
  // namespace, where a signal without a handler is ignored, so StopContainer's SIGTERM does nothing and
  // the SIGKILL after the timeout ends it; on pxoci the CT's PID 1 is pxoci's init and SIGTERM kills httpd.
  if (runtime === 'pxoci') facts.stopped = [{ ...expected.stopped[0]!, exitCode: 143 }, expected.stopped[1]!];
  return facts;
};

t.test('the images are there for the CRI', async (t) => {
  for (const image of [PAUSE_IMAGE, BUSYBOX_IMAGE]) t.ok((await cri.imageStatus(image))?.repoTags.includes(image), image);
});

t.test('a pod on runc: sandbox, two containers over 127.0.0.1, exec, status, stop, remove', async (t) => {
  t.same(await podFlow(t, 'runc'), expectedFor('runc'));
});

/** What an admin sees of the pod's CTs on the node: pct list, and the notes of each CT. */
function podCts(t: Test, ids: { pod: string; server: string; client: string }): void {
  const pct = (args: string[]) => spawnSync(join(node.root, 'usr/sbin/pct'), args, { env: node.env, encoding: 'utf8' });
  const vmids = ctConfigs(node);
  t.equal(vmids.length, 3, `three CTs: the sandbox and two containers (${vmids.join(', ')})`);
  const list = pctList(node);
  for (const vmid of vmids) t.match(list, new RegExp(`^${vmid}\\s+running\\s`, 'm'), `pct list shows CT ${vmid} running`);
  const notes = new Map<string, string[]>();
  for (const vmid of vmids) {
    const description = /^description: (.*)$/m.exec(pct(['config', String(vmid)]).stdout)?.[1] ?? '';
    const lines = decodeText(description).split('\n');
    const id = lines.find((l) => l.startsWith('pxoci container '))?.slice('pxoci container '.length) ?? `CT ${vmid}`;
    notes.set(id, lines);
  }
  const pod = 'Kubernetes pod pxoci-test/web-pxoci';
  const podLine = (id: string) => notes.get(id)?.find((l) => l.startsWith('Kubernetes pod '));
  t.equal(podLine(ids.pod), `${pod}: its sandbox ${ids.pod}`, "the sandbox CT's notes name the pod");
  t.equal(podLine(ids.server), `${pod}: container server of sandbox ${ids.pod}`, "the server's");
  t.equal(podLine(ids.client), `${pod}: container client of sandbox ${ids.pod}`, "the client's");
}

t.test('the same pod on pxoci: the same answers, and pct list and the CT notes show the pod', async (t) => {
  const facts = await podFlow(t, 'pxoci', (ids) => podCts(t, ids));
  t.same(facts, expectedFor('pxoci'), "what the CRI reports is runc's");
  t.equal(pctList(node), '', 'no CT once the pod is removed');
});

t.test("shareProcessNamespace: runc puts the containers in the sandbox's pid namespace, pxoci refuses it by name", async (t) => {
  for (const runtime of ['runc', 'pxoci'] as const) {
    const sandboxConfig: PodSandboxConfig = {
      metadata: { name: `shared-pid-${runtime}`, uid: `uid-shared-${runtime}-${process.pid}`, namespace: 'pxoci-test', attempt: 0 },
      hostname: `shared-pid-${runtime}`,
      logDirectory: join(work, 'logs', `shared-${runtime}`),
      linux: { cgroupParent, securityContext: { namespaceOptions: { ...KUBELET_NAMESPACES, pid: 'POD' } } },
    };
    const pod = await cri.runPodSandbox(sandboxConfig, runtime);
    try {
      const config = {
        metadata: { name: 'app', attempt: 0 },
        image: { image: BUSYBOX_IMAGE },
        command: ['sh', '-c', CLIENT_LOOP],
        logPath: 'app.log',
        linux: { securityContext: { namespaceOptions: { ...KUBELET_NAMESPACES, pid: 'POD' as const } } },
      };
      if (runtime === 'runc') {
        const app = await cri.createContainer(pod, config, sandboxConfig);
        await cri.startContainer(app);
        const sandboxPid = (JSON.parse((await cri.podSandboxStatus(pod, true)).info.info ?? '{}') as SandboxInfo).pid;
        const inside = (await cri.execSync(app, ['readlink', '/proc/self/ns/pid'])).stdout.trim();
        t.equal(inside, readlinkSync(`/proc/${sandboxPid}/ns/pid`), "runc: the container is in the sandbox's pid namespace");
      } else {
        // CreateContainer only records the container in containerd: the runtime's create runs at StartContainer.
        const app = await cri.createContainer(pod, config, sandboxConfig);
        await t.rejects(cri.startContainer(app), /linux\.namespaces\[\d+\]\.path: pid: pxoci joins only network, IPC and UTS namespaces/, 'pxoci: StartContainer fails, naming the field and why');
        t.equal((await cri.containerStatus(app)).status.state, 'CONTAINER_EXITED', 'the CRI reports the container as failed');
        t.equal(ctConfigs(node).length, 1, "pxoci: the sandbox's CT only, the refused container left none");
      }
    } finally {
      await cri.stopPodSandbox(pod);
      await cri.removePodSandbox(pod);
    }
  }
  t.equal(pctList(node), '', 'no CT once the pods are removed');
});

t.test('nothing left behind: containerd and its shims, the network namespaces, the bridge, cgroups, CTs', async (t) => {
  cri.close();
  daemon?.kill('SIGTERM');
  await daemonExit;
  t.same(processesMentioning(work), [], 'no containerd, shim or runtime process');
  t.same(readdirSync(boundOver['/run/containerd/s']!), [], 'no shim socket');
  t.same(readdirSync(boundOver['/var/lib/cni/results']!), [], 'no CNI result');
  t.same(readdirSync(join(work, 'state')).flatMap((d) => findNetns(join(work, 'state', d))), [], 'no network namespace file');
  t.same(readdirSync(join(work, 'state/io.containerd.runtime.v2.task/k8s.io')), [], 'no task bundle');
  t.same(readdirSync(join(work, 'runc-root/k8s.io')), [], "no runc state");
  t.same(readdirSync(join(work, 'pxoci-root/k8s.io')).filter((e) => e !== '@owner-key'), [], "no pxoci state (its owner key stays)");
  // CNI's DEL leaves the bridge, as on a node: the test takes it away.
  t.equal(spawnSync('ip', ['link', 'del', bridge]).status, 0, `the CNI bridge ${bridge} was made, and is deleted`);
  removeCgroupParent();
  t.same(cgroupParentDirs(), [], 'no cgroup');
  t.same(ctConfigs(node), [], 'no CT');
  t.equal(pctList(node), '');
});

/** Files named like containerd's network namespaces (cni-<uuid>) below `dir`. */
function findNetns(dir: string): string[] {
  const r = spawnSync('find', [dir, '-name', 'cni-*'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}
