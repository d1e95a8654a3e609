// pvesh for the simulated node: `pvesh get /cluster/nextid` — the lowest VMID that no CT or VM of the
// cluster has, within datacenter.cfg's `next-id: lower=…,upper=…` ([100, 1000000) by default). Like
// PVE's, it is a hint, not a reservation: two callers can get the same answer.
import { nextIdRange, usedVmids } from '../pve/node-facts.js';
import { nodePaths } from '../pve/paths.js';

const [verb, path, ...rest] = process.argv.slice(2);
if (verb !== 'get' || path !== '/cluster/nextid') {
  process.stderr.write(`pvesim's pvesh knows only 'get /cluster/nextid'\n`);
  process.exit(255);
}
const paths = nodePaths();
const used = usedVmids(paths);
const { lower, upper } = nextIdRange(paths);
let id = lower;
while (id < upper && used.has(id)) id++;
if (id >= upper) {
  process.stderr.write(`unable to get any free VMID in range [${lower}, ${upper}]\n`);
  process.exit(255);
}
const json = rest.includes('--output-format') && rest[rest.indexOf('--output-format') + 1] === 'json';
process.stdout.write(json ? `"${id}"\n` : `${id}\n`);
