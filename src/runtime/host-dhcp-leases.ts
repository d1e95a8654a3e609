// What PVE leaves of a destroyed CT's host-managed DHCP: its post-stop hook kills the DHCP clients and
// removes their pid files, but the lease files stay in /var/lib/lxc/<vmid>/hook/ (kept for the next
// start), and destroy then removes /var/lib/lxc/<vmid> only if it is empty, so that stays too. pxoci
// deletes a container for good: it removes the lease files of the interfaces of its own CT's config
// and the hook dir if that leaves it empty, before pct destroy, which can then remove the CT's dir.
import { rmSync, rmdirSync } from 'node:fs';
import type { PveConfig } from '../pve/config.js';
import { dhclientFile, dhclientHookDir, hostManagedDhcp } from '../pve/host-dhcp.js';

export function removeHostDhcpLeases(lxcPath: string, vmid: number, conf: PveConfig): void {
  let interfaces;
  try {
    interfaces = hostManagedDhcp(conf.options);
  } catch {
    // A netN someone broke by hand: which files are ours is unknown, and the delete must go on.
    return;
  }
  if (!interfaces.length) return;
  // rm unlinks a symlink itself, never what it points to; the names come from PVE's net name rule.
  for (const iface of interfaces) rmSync(dhclientFile(lxcPath, vmid, iface, 'leases'), { force: true });
  try {
    rmdirSync(dhclientHookDir(lxcPath, vmid));
  } catch {
    // not empty (files that are not ours), or not there
  }
}
