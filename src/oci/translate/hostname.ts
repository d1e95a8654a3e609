// hostname and domainname → the CT's hostname option (LXC makes it lxc.uts.name).
import type { OciSpec } from '../bundle.js';
import { DNS_LABEL_MAX_LENGTH, isValidHostname } from '../../pve/config.js';
import { ConfigError } from '../errors.js';
import { rejectionReason } from '../fields.js';

export function rejectDomainname(domainname: string | undefined): void {
  if (domainname) throw new ConfigError('domainname', rejectionReason('domainname'));
}

/** How engines shorten a 64-hex id for people (docker ps). */
const SHORT_ID_LENGTH = 12;

/** An engine id is not a hostname (64 hex chars exceed a DNS label): derive a valid one. */
export function hostnameFor(spec: OciSpec, id: string): string {
  if (spec.hostname !== undefined && spec.hostname !== '') {
    if (!isValidHostname(spec.hostname)) throw new ConfigError('hostname', `"${spec.hostname.replace(/[^\x20-\x7e]/g, '?')}" is not a valid DNS name`);
    return spec.hostname;
  }
  const label = id.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, /^[0-9a-f]{64}$/.test(id) ? SHORT_ID_LENGTH : DNS_LABEL_MAX_LENGTH).replace(/-+$/, '');
  return label || 'pxoci';
}
