// pvesh for the simulated node: `pvesh get /cluster/nextid` — the lowest free VMID ≥ 100. Like PVE's,
// it is a hint, not a reservation: two callers can get the same answer.
import { VMID_MIN, usedVmids } from '../pve/node-facts.js';
import { nodePaths } from '../pve/paths.js';

const [verb, path, ...rest] = process.argv.slice(2);
if (verb !== 'get' || path !== '/cluster/nextid') {
  process.stderr.write(`pvesim's pvesh knows only 'get /cluster/nextid'\n`);
  process.exit(255);
}
const used = usedVmids(nodePaths());
let id = VMID_MIN;
while (used.has(id)) id++;
const json = rest.includes('--output-format') && rest[rest.indexOf('--output-format') + 1] === 'json';
process.stdout.write(json ? `"${id}"\n` : `${id}\n`);
