// The simulated node's network: a network namespace of its own, bound at <root>/run/pvesim/node.netns,
// holding the node's bridge vmbr0 (as `iface vmbr0 inet manual / bridge-ports none` would on a PVE
// node). It is never the host's network: a CT's netN plugs its veth into this namespace's bridge, so
// the CT and the node talk over a real veth while the host's interfaces, routes and firewall stay
// untouched. Made on the first start of a CT with a netN (most simulated nodes never need one);
// removed by `pvesim down` (unmounting the binding frees the namespace, its bridge and every veth
// end in it).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parsePropertyString } from '../pve/config.js';
import { spawnSync } from './lazy-builtins.js';
import { shellQuote } from '../lib/shell-quote.js';
import type { LxcLine } from './update-lxc-config.js';

/** The bridges a simulated node has; PVE's default install has just vmbr0. */
export const NODE_BRIDGES = ['vmbr0'];
/** The per-CT script that stands in for PVE's /usr/share/lxc/lxcnetaddbr, in var/lib/lxc/<vmid>/. */
export const NET_UP_SCRIPT = 'pvesim-lxcnetaddbr';
const PVE_NET_UP_SCRIPT = '/usr/share/lxc/lxcnetaddbr';
const IP = '/usr/sbin/ip';
const BRIDGE = '/usr/sbin/bridge';
const NSENTER = '/usr/bin/nsenter';
const UNSHARE = '/usr/bin/unshare';
const FLOCK = '/usr/bin/flock';

export function nodeNetnsPath(root: string): string {
  return join(root, 'run/pvesim/node.netns');
}

function inNodeNetns(root: string, cmd: string, args: string[]): { ok: boolean; status: number | null; stdout: string } {
  const r = spawnSync(NSENTER, [`--net=${nodeNetnsPath(root)}`, cmd, ...args], { encoding: 'utf8' });
  return { ok: r.status === 0, status: r.status, stdout: r.stdout ?? '' };
}

/**
 * Makes the node's namespace and its bridges once (under a lock: CTs may start in parallel). nsenter
 * fails on a file that is not yet a bound namespace, which is what tells a first start.
 */
export function ensureNodeNetwork(root: string): void {
  if (nodeNetnsBound(root)) return;
  const netns = nodeNetnsPath(root);
  mkdirSync(join(root, 'run/pvesim'), { recursive: true, mode: 0o755 });
  const q = shellQuote(netns);
  const bridges = NODE_BRIDGES.map((b) => {
    const name = shellQuote(b);
    // VLAN-aware (bridge-vlan-aware yes) where the kernel can filter VLANs, so that `tag` isolates.
    return `${IP} link add ${name} type bridge vlan_filtering 1 2>/dev/null || ${IP} link add ${name} type bridge || exit 1; ${IP} link set ${name} up || exit 1`;
  }).join('; ');
  const script = [
    `${NSENTER} --net=${q} /bin/true 2>/dev/null && exit 0`,
    `: > ${q} || exit 1`,
    `${UNSHARE} --net=${q} /bin/true || exit 1`,
    `${NSENTER} --net=${q} /bin/sh -c ${shellQuote(`${IP} link set lo up && ${bridges}`)}`,
  ].join('\n');
  const r = spawnSync(FLOCK, [join(root, 'run/pvesim/node-network.lock'), '/bin/sh', '-c', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pvesim: cannot set up the node's network namespace: ${(r.stderr ?? '').trim()}`);
}

/**
 * The post-stop hook's veth_delete for each netN: the host end, which pvesim keeps in the node's
 * namespace, is deleted where it still exists (a failure is only warned about, as in PVE).
 */
export function deleteNodeVeths(root: string, vmid: number, options: Record<string, string | undefined>, warn: (msg: string) => void): void {
  const nets = Object.keys(options).filter((k) => /^net\d+$/.test(k));
  if (!nets.length || !nodeNetnsBound(root)) return;
  for (const key of nets) {
    const veth = `veth${vmid}i${key.slice(3)}`;
    if (!inNodeNetns(root, IP, ['link', 'show', 'dev', veth]).ok) continue;
    const r = inNodeNetns(root, IP, ['link', 'delete', 'dev', veth]);
    if (!r.ok) warn(`command '/sbin/ip link delete dev ${veth}' failed: exit code ${r.status ?? 'unknown'}`);
  }
}

function nodeNetnsBound(root: string): boolean {
  return existsSync(nodeNetnsPath(root)) && inNodeNetns(root, '/bin/true', []).ok;
}

/** A bridge's MTU in the node's namespace (undefined when the node has no such bridge). */
export function nodeBridgeMtu(root: string, bridge: string): number | undefined {
  if (!NODE_BRIDGES.includes(bridge)) return undefined;
  ensureNodeNetwork(root);
  const m = / mtu (\d+) /.exec(inNodeNetns(root, IP, ['-o', 'link', 'show', 'dev', bridge]).stdout);
  return m ? Number(m[1]) : undefined;
}

function bridgeFiltersVlans(root: string, bridge: string): boolean {
  return /vlan_filtering 1/.test(inNodeNetns(root, IP, ['-d', '-o', 'link', 'show', 'dev', bridge]).stdout);
}

/**
 * The network lines PVE rendered, for this host: LXC runs pvesim's lxcnetaddbr instead of PVE's, which
 * moves the host end of each veth into the node's namespace and plugs it into the bridge there (PVE's
 * tap_plug: on a VLAN-aware bridge the port gets `tag` as its only, untagged VLAN). Returns the
 * script to write (executable) next to the config.
 */
export function adaptNetworks(lines: LxcLine[], o: Record<string, string>, vmid: number, root: string, ctDir: string): { lines: LxcLine[]; warnings: string[]; upScript?: string } {
  const nets = Object.keys(o).filter((k) => /^net\d+$/.test(k));
  // A CT without netN gets a namespace with only lo, as on PVE.
  if (!nets.length) return { lines: [['lxc.net.0.type', 'empty']], warnings: [] };
  const warnings: string[] = [];
  const plug: string[] = [];
  for (const key of nets.sort()) {
    const i = key.slice(3);
    const net = parsePropertyString('net', o[key]!);
    const bridge = net.bridge!;
    const vlan: string[] = [];
    if (net.tag !== undefined) {
      if (!bridgeFiltersVlans(root, bridge)) throw new Error(`${key}: tag=${net.tag} needs a VLAN-aware bridge, and this host's kernel cannot filter VLANs on ${bridge} (no CONFIG_BRIDGE_VLAN_FILTERING): pvesim does not start a CT whose VLAN it cannot isolate`);
      vlan.push(`${BRIDGE} vlan del dev "$5" vid 1`, `${BRIDGE} vlan add dev "$5" vid ${net.tag} pvid untagged`);
    }
    if (net.firewall === '1') warnings.push(`${key}: firewall=1: PVE's firewall bridge (fwbr${vmid}i${i}) and its rules are not simulated; the veth is plugged into ${bridge} directly`);
    if (net.rate !== undefined) warnings.push(`${key}: rate=${net.rate} is not enforced (no tc on the simulated node)`);
    plug.push(
      `  veth${vmid}i${i}) ${IP} link set dev "$5" netns "$netns" && ${NSENTER} --net="$netns" /bin/sh -c ${shellQuote(
        [`${IP} link set dev "$5" master ${shellQuote(bridge)}`, ...vlan, `${IP} link set dev "$5" up`].join(' && '),
      )} sh "$1" "$2" "$3" "$4" "$5" ;;`,
    );
  }
  warnings.push(`${nets.join(', ')}: the host end of each veth is moved into the simulated node's network namespace (${nodeNetnsPath(root)}) and plugged into its bridge there, by pvesim's lxcnetaddbr`);
  const upScript = [
    '#!/bin/sh',
    "# pvesim's /usr/share/lxc/lxcnetaddbr for this CT: LXC calls it with <ct> net up veth <host end>.",
    `netns=${shellQuote(nodeNetnsPath(root))}`,
    'case "$5" in',
    ...plug,
    '  *) echo "pvesim-lxcnetaddbr: unknown interface $5" >&2; exit 1 ;;',
    'esac',
    '',
  ].join('\n');
  const script = join(ctDir, NET_UP_SCRIPT);
  return { lines: lines.map(([k, v]): LxcLine => [k, k.endsWith('.script.up') && v === PVE_NET_UP_SCRIPT ? script : v]), warnings, upScript };
}
