// PVE 9.1's host-managed DHCP (pve-container's PVE::LXC vm_start, manage_dhclient, kill_dhclients):
// which interfaces of a CT get a DHCP client run by the host, and where that client keeps its files.
// The simulator runs those clients as PVE does; pxoci refuses a net0 that would get one, since that
// client's script writes through the CT's root as host root (README "PVE networking").
import { join } from 'node:path';
import { parsePropertyString } from './config.js';

export interface HostDhcpInterface {
  /** The interface's name inside the CT (net's `name`). */
  eth: string;
  ipVersion: 4 | 6;
}

/**
 * vm_start's choice, in its order: every netN (keys sorted as strings) with host-managed=1, first the
 * ones with ip=dhcp (DHCPv4), then the ones with ip6=dhcp (DHCPv6). link_down is not looked at.
 */
export function hostManagedDhcp(options: Record<string, string | undefined>): HostDhcpInterface[] {
  const v4: HostDhcpInterface[] = [];
  const v6: HostDhcpInterface[] = [];
  for (const key of Object.keys(options).sort()) {
    if (!/^net\d+$/.test(key) || options[key] === undefined) continue;
    const net = parsePropertyString('net', options[key]!);
    if (net.name === undefined) continue;
    for (const ipVersion of hostDhcpFamilies(net)) (ipVersion === 4 ? v4 : v6).push({ eth: net.name, ipVersion });
  }
  return [...v4, ...v6];
}

/** The address families for which PVE's start runs a DHCP client on the host for this one netN. */
export function hostDhcpFamilies(net: Record<string, string | undefined>): Array<4 | 6> {
  if (net['host-managed'] !== '1') return [];
  return [...(net.ip === 'dhcp' ? [4 as const] : []), ...(net.ip6 === 'dhcp' ? [6 as const] : [])];
}

/**
 * PVE's one rule for a host-managed interface's addresses (update_lxc_config at start, update_pct_config
 * at set): no SLAAC, since the host runs no router-advertisement client for the CT. Undefined when fine.
 */
export function hostManagedAddressError(net: Record<string, string | undefined>): string | undefined {
  if (net['host-managed'] !== '1' || net.link_down === '1') return undefined;
  return net.ip6 === 'auto' ? 'SLAAC is not supported for host-managed network configuration' : undefined;
}

/** /var/lib/lxc/<vmid>/hook: made by the first DHCP client's start; PVE never removes it. */
export function dhclientHookDir(lxcPath: string, vmid: number): string {
  return join(lxcPath, String(vmid), 'hook');
}

/** dhclient<4|6>-<eth>.pid / .leases in the hook dir (net names match [-_.\w]+: never a path). */
export function dhclientFile(lxcPath: string, vmid: number, { eth, ipVersion }: HostDhcpInterface, kind: 'pid' | 'leases'): string {
  return join(dhclientHookDir(lxcPath, vmid), `dhclient${ipVersion}-${eth}.${kind}`);
}
