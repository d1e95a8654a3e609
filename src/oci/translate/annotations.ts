// annotations → lines of the CT's notes (PVE's description, shown in the UI). All of them stay in the
// state, where `pxoci state` shows them; the notes show what fits.
import { ConfigError } from '../errors.js';

/** A key or value that could break its line is refused by name, so nothing reaches the config unchecked. */
const ANNOTATION_KEY = /^[A-Za-z0-9][A-Za-z0-9._\/\-]{0,252}$/;
export const ANNOTATION_VALUE_SHOWN = 200;
export const ANNOTATIONS_SHOWN = 32;

export function annotationLines(annotations: Record<string, string> | undefined): string[] {
  const entries = Object.entries(annotations ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [k, v] of entries) {
    if (!ANNOTATION_KEY.test(k)) throw new ConfigError(`annotations["${k.replace(/[^\x20-\x7e]/g, '?')}"]`, 'an annotation key is letters, digits and . _ / - (at most 253)');
    if (/[\x00-\x1f\x7f]/.test(v)) throw new ConfigError(`annotations["${k}"]`, 'the value contains a control character');
  }
  const lines = entries.slice(0, ANNOTATIONS_SHOWN).map(([k, v]) => `annotation ${k}=${shownValue(v)}`);
  if (entries.length > ANNOTATIONS_SHOWN) lines.push(`(${entries.length - ANNOTATIONS_SHOWN} more annotations: see pxoci state)`);
  return lines;
}

/** An annotation value as the notes show it: cut at ANNOTATION_VALUE_SHOWN characters. */
export function shownValue(v: string): string {
  return [...v].length > ANNOTATION_VALUE_SHOWN ? [...v].slice(0, ANNOTATION_VALUE_SHOWN).join('') + '…' : v;
}
