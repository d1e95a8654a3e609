// Scripts pvesim and pxoci write (PATH shims, LXC hooks) and the `export` lines pvesim prints take
// paths that may hold anything: each goes into sh as one word.
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
