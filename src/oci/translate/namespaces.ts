// linux.namespaces, uidMappings, gidMappings. LXC gives every CT private pid, ipc, uts, mount, network
// and cgroup namespaces; a user namespace makes the CT unprivileged, with its map as lxc.idmap lines.
import type { OciSpec } from '../bundle.js';
import { ConfigError } from '../errors.js';
import { rejectionReason } from '../fields.js';
import type { Translation } from '../translate.js';
import type { CtConfig } from './ct-config.js';

type Linux = NonNullable<OciSpec['linux']>;
type IdMap = NonNullable<Linux['uidMappings']>[number];

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

/** Returns the host uid/gid of the CT's root when it has a user namespace. */
export function translateNamespaces(linux: Linux, ct: CtConfig): Translation['ctRoot'] {
  for (const [i, ns] of (linux.namespaces ?? []).entries()) {
    if (ns.path) throw new ConfigError(`linux.namespaces[${i}].path`, rejectionReason('linux.namespaces[].path'));
    if (ns.type === 'time') throw new ConfigError(`linux.namespaces[${i}]`, rejectionReason('linux.namespaces[] time'));
  }
  if (linux.namespaces) {
    // An explicit list without one of these asks for the host's namespace (e.g. --net=host).
    for (const type of ['pid', 'ipc', 'uts', 'mount', 'network']) {
      if (!linux.namespaces.some((n) => n.type === type)) {
        throw new ConfigError('linux.namespaces', `no "${type}" namespace: ${rejectionReason('linux.namespaces[] pid, ipc, uts, mount, network (absent from a given list)')}`);
      }
    }
  }
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
