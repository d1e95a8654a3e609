// linux.namespaces, uidMappings, gidMappings. LXC gives every CT private pid, ipc, uts, mount, network
// and cgroup namespaces; a user namespace makes the CT unprivileged, with its map as lxc.idmap lines.
// The network, IPC and UTS namespaces a config names by path, or leaves out (the host's), are joined
// by pxoci's init before it forks the container process (docs/DESIGN.md, "Joining namespaces"): PVE
// accepts no lxc.namespace.* key, so the CT itself is created with its own and then moves.
import type { OciSpec } from '../bundle.js';
import { ConfigError } from '../errors.js';
import { rejectionReason } from '../fields.js';
import type { Translation } from '../translate.js';
import type { CtConfig } from './ct-config.js';

type Linux = NonNullable<OciSpec['linux']>;
type IdMap = NonNullable<Linux['uidMappings']>[number];

/** The namespaces pxoci's init can move the CT into. */
export const JOINABLE_NAMESPACES = ['network', 'ipc', 'uts'] as const;
export type JoinableNamespace = (typeof JOINABLE_NAMESPACES)[number];

/** A namespace the container process must run in instead of the CT's own. */
export interface NamespaceJoin {
  type: JoinableNamespace;
  /** The namespace file on the host; absent: the namespace `pxoci create` runs in (the host's). */
  path?: string;
  /** The config field that asked for it, for the error when the path is no such namespace. */
  field: string;
}

/** The map PVE writes for an unprivileged CT whose config has no lxc.idmap lines. */
const PVE_DEFAULT_IDMAP: IdMap = { containerID: 0, hostID: 100000, size: 65536 };

const isPveDefault = (maps?: IdMap[]) =>
  maps?.length === 1 && maps[0]!.containerID === PVE_DEFAULT_IDMAP.containerID && maps[0]!.hostID === PVE_DEFAULT_IDMAP.hostID && maps[0]!.size === PVE_DEFAULT_IDMAP.size;

/** The host id of a container uid or gid: itself without a user namespace, undefined when the CT's
 *  maps leave it out. */
export function hostIdOf(linux: Linux, kind: 'uid' | 'gid', id: number): number | undefined {
  if (!(linux.namespaces ?? []).some((n) => n.type === 'user')) return id;
  const maps = (kind === 'uid' ? linux.uidMappings : linux.gidMappings) ?? [PVE_DEFAULT_IDMAP];
  const m = maps.find((m) => id >= m.containerID && id < m.containerID + m.size);
  return m === undefined ? undefined : m.hostID + (id - m.containerID);
}

const isJoinable = (type: string): type is JoinableNamespace => (JOINABLE_NAMESPACES as readonly string[]).includes(type);

/** Checks linux.namespaces and returns the namespaces to join, in the list's order (absent ones last). */
export function namespaceJoins(linux: Linux): NamespaceJoin[] {
  const list = linux.namespaces;
  if (!list) return []; // no list: the CT's private namespaces, as every CT has
  const joins: NamespaceJoin[] = [];
  for (const [i, ns] of list.entries()) {
    if (ns.type === 'time') throw new ConfigError(`linux.namespaces[${i}]`, rejectionReason('linux.namespaces[] time'));
    if (ns.path === undefined || ns.path === '') continue;
    const field = `linux.namespaces[${i}].path`;
    if (!isJoinable(ns.type)) throw new ConfigError(field, `${ns.type}: ${rejectionReason('linux.namespaces[].path pid, mount, user, cgroup')}`);
    if (!ns.path.startsWith('/') || /[\0\n]/.test(ns.path)) throw new ConfigError(field, 'must be an absolute path to a namespace file');
    joins.push({ type: ns.type, path: ns.path, field });
  }
  for (const type of ['pid', 'mount']) {
    if (!list.some((n) => n.type === type)) {
      throw new ConfigError('linux.namespaces', `no "${type}" namespace: ${rejectionReason('linux.namespaces[] pid, mount (absent from a given list)')}`);
    }
  }
  for (const type of JOINABLE_NAMESPACES) {
    if (!list.some((n) => n.type === type)) joins.push({ type, field: 'linux.namespaces' });
  }
  const userIndex = list.findIndex((n) => n.type === 'user');
  if (userIndex >= 0 && joins.length) {
    const what = joins[0]!.path ? `${joins[0]!.field} (${joins[0]!.type})` : `the host's ${joins[0]!.type} namespace (no "${joins[0]!.type}" in linux.namespaces)`;
    throw new ConfigError(`linux.namespaces[${userIndex}]`, `${what}: ${rejectionReason('linux.namespaces[] user with a joined or host namespace')}`);
  }
  return joins;
}

/** Returns the host uid/gid of the CT's root when it has a user namespace. */
export function translateNamespaces(linux: Linux, ct: CtConfig): Translation['ctRoot'] {
  const userns = (linux.namespaces ?? []).some((n) => n.type === 'user');
  if (!userns) {
    if (linux.uidMappings?.length || linux.gidMappings?.length) throw new ConfigError('linux.uidMappings', 'needs a user namespace in linux.namespaces');
    return undefined;
  }
  const hostOf = (maps?: IdMap[]) => (maps ?? [PVE_DEFAULT_IDMAP]).find((m) => m.containerID === 0)?.hostID;
  const uid = hostOf(linux.uidMappings);
  const gid = hostOf(linux.gidMappings);
  if (uid === undefined || gid === undefined) throw new ConfigError('linux.uidMappings', 'must map the container root (containerID 0)');
  ct.option('unprivileged', '1', 'linux.namespaces[] user');
  if (!isPveDefault(linux.uidMappings) || !isPveDefault(linux.gidMappings)) {
    for (const m of linux.uidMappings ?? []) ct.raw('lxc.idmap', `u ${m.containerID} ${m.hostID} ${m.size}`);
    for (const m of linux.gidMappings ?? []) ct.raw('lxc.idmap', `g ${m.containerID} ${m.hostID} ${m.size}`);
  }
  return { uid, gid };
}
