// The scripts pvesim writes (PATH shims, the post-stop hook) and the `export` lines it prints take
// paths that may hold anything: each goes into sh as one word.
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
