// Where a PVE node keeps its files. PXOCI_PVE_ROOT is the one variable pxoci reads for that root:
// '/' on a real node, a directory made by `pvesim env` on the simulated one.
import { hostname } from 'node:os';
import { join } from 'node:path';

export function pveRoot(): string {
  return process.env.PXOCI_PVE_ROOT || '/';
}

/** PVE names a node by its short hostname. */
export function nodeName(): string {
  return process.env.PXOCI_PVE_NODE || hostname().split('.')[0] || 'localhost';
}

export function nodePaths(root = pveRoot(), node = nodeName()) {
  const etcPve = join(root, 'etc/pve');
  return {
    root,
    node,
    etcPve,
    lxcConfDir: join(etcPve, 'nodes', node, 'lxc'),
    /** The text PVE uses in messages: relative to /etc/pve. */
    confRelative: (vmid: number) => `nodes/${node}/lxc/${vmid}.conf`,
    confPath: (vmid: number) => join(etcPve, 'nodes', node, 'lxc', `${vmid}.conf`),
    vmlist: join(etcPve, '.vmlist'),
    lockDir: join(root, 'run/lock/lxc'),
    lockPath: (vmid: number) => join(root, 'run/lock/lxc', `pve-config-${vmid}.lock`),
    lxcPath: join(root, 'var/lib/lxc'),
    stderrPath: (vmid: number) => join(root, 'run/pve', `ct-${vmid}.stderr`),
    pct: join(root, 'usr/sbin/pct'),
    pvesh: join(root, 'usr/bin/pvesh'),
    lxcBin: (tool: string) => join('/usr/bin', tool),
  };
}
export type NodePaths = ReturnType<typeof nodePaths>;
