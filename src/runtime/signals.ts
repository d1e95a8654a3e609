import { constants } from 'node:os';
import { unknownSignal } from './errors.js';

const byName = constants.signals as Record<string, number>;

/** Accepts what runc accepts: `9`, `KILL`, `SIGKILL`, `kill`, `sigkill`. */
export function parseSignal(text: string | number | undefined): number {
  if (text === undefined || text === '') return byName.SIGTERM!;
  const raw = String(text);
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    if (n > 0 && n <= 64) return n;
    throw unknownSignal(raw);
  }
  const upper = raw.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  const n = byName[name];
  if (n === undefined) throw unknownSignal(raw);
  return n;
}
