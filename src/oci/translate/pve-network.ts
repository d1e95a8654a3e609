// The annotation org.proxmox.pxoci.net0 → the CT's PVE net0: for PVE admins who want the CT on one of
// the node's bridges (vmbr0, a VLAN, PVE's firewall) instead of the engine's network. The value is
// PVE's own net0 property string, checked by PVE's rules for it.
import { randomBytes } from 'node:crypto';
import { PVE_RELEASE_LATEST, PropertyStringError, parsePropertyString, printPropertyString, type PveRelease } from '../../pve/config.js';
import { hostDhcpFamilies, hostManagedAddressError } from '../../pve/host-dhcp.js';
import type { OciSpec } from '../bundle.js';
import { ConfigError } from '../errors.js';
import type { CtConfig } from './ct-config.js';

export const PVE_NET0_ANNOTATION = 'org.proxmox.pxoci.net0';

/** PVE's default MAC prefix (datacenter.cfg mac_prefix, Proxmox's OUI). */
const PVE_MAC_PREFIX = 'BC:24:11';

/** PVE::Tools::random_ether_addr with PVE's prefix: the rest random, upper case. */
function randomPveMac(): string {
  const tail = [...randomBytes(3)].map((b) => b.toString(16).toUpperCase().padStart(2, '0'));
  return [PVE_MAC_PREFIX, ...tail].join(':');
}

export function translatePveNetwork(spec: OciSpec, ct: CtConfig, pveRelease: () => PveRelease = () => PVE_RELEASE_LATEST): void {
  const value = (spec.annotations as Record<string, string> | undefined)?.[PVE_NET0_ANNOTATION];
  if (value === undefined) return;
  const field = `annotations["${PVE_NET0_ANNOTATION}"]`;
  // net0 gives the CT's own network namespace an interface: it cannot go into a namespace the engine
  // made (its network would be replaced under it) or the host's.
  const netns = spec.linux?.namespaces?.find((n) => n.type === 'network');
  if (!netns || netns.path) {
    throw new ConfigError(
      field,
      `a PVE net0 needs the container's own, empty network namespace (the engine's network off, e.g. podman --network none), but linux.namespaces ${netns ? `joins ${netns.path}` : 'has no "network" entry (the host\'s network)'}`,
    );
  }
  // Without host-managed (PVE 9.1) nothing would set the address of an unmanaged CT's interface.
  const release = pveRelease();
  if (release < 9) throw new ConfigError(field, `a PVE net0 for a container needs PVE 9.1's host-managed interfaces; this node runs PVE ${release}`);
  let net: Record<string, string>;
  try {
    net = parsePropertyString('net', value, { pve: release });
  } catch (e) {
    // One line, as every refusal: PVE's `format error` lists each failing key on a line of its own.
    const reason = e instanceof PropertyStringError ? Object.entries(e.errors).map(([k, m]) => `${k}: ${m}`).join('; ') : (e as Error).message;
    throw new ConfigError(field, `${reason} (PVE's rule for net0)`);
  }
  // pct create/set give an interface without one a MAC; pxoci writes the file, so it does the same.
  net.hwaddr ??= randomPveMac();
  // The CT's ostype is unmanaged, so PVE writes no network config into it: with host-managed LXC sets
  // the addresses and the gateway and brings the link up, as for PVE's own OCI CTs.
  net['host-managed'] ??= '1';
  // PVE's start would refuse it (`pct start` failed, no reason for the caller): refused here, by name.
  const refused = hostManagedAddressError(net);
  if (refused) throw new ConfigError(field, `ip6=${net.ip6}: ${refused} (PVE's rule for net0)`);
  // PVE 9.1's start runs the DHCP client of a host-managed interface on the host, and LXC's
  // dhclient-script it uses writes the lease's DNS servers to /proc/<CT pid>/root/etc/resolv.conf as host
  // root from the host's mount namespace: an absolute symlink the container plants there, now or before
  // any renewal, is followed on the host. Nothing at create can rule that out, so no such CT is made.
  const dhcp = hostDhcpFamilies(net).map((v) => (v === 4 ? 'ip=dhcp' : 'ip6=dhcp'));
  if (dhcp.length) {
    throw new ConfigError(
      field,
      `${dhcp.join(',')} with host-managed=1: PVE 9.1 runs the DHCP client on the host and its script writes the lease's DNS servers through the container's root, following links the container controls; give a static ip=/gw= (ip6=/gw6=), or host-managed=0 to run a DHCP client inside the container`,
    );
  }
  ct.option('net0', printPropertyString('net', net), field);
}
