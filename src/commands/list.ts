// pxoci list [--format table|json] [--quiet]
import type { Context } from '../runtime/context.js';
import { invalidFormat } from '../runtime/errors.js';
import { listContainers } from '../runtime/list.js';

export function list(ctx: Context, o: { format?: string; quiet?: boolean }): void {
  const format = o.format ?? 'table';
  if (format !== 'table' && format !== 'json') throw invalidFormat(format);
  const states = listContainers(ctx);
  if (o.quiet) {
    for (const s of states) process.stdout.write(`${s.id}\n`);
    return;
  }
  if (format === 'json') {
    process.stdout.write(JSON.stringify(states) + '\n');
    return;
  }
  const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER', 'VMID']];
  for (const s of states) {
    rows.push([String(s.id), String(s.pid), String(s.status), String(s.bundle), String(s.created), String(s.owner), String(s.vmid ?? '')]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) process.stdout.write(r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]! + 3) : c)).join('') + '\n');
}
