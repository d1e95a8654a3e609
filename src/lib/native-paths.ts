// The native helpers are built next to the bundled JS (dist/), whichever entry point is running.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

let distDir: string | undefined;

export function helperPath(name: 'pxoci-helper' | 'pxoci-init' | 'pxoci-procfacts.node'): string {
  if (!distDir) {
    const here = dirname(fileURLToPath(import.meta.url));
    // Bundled: dist/<entry>.js. From source (tests): src/lib/native-paths.ts → ../../dist.
    distDir = existsSync(join(here, 'pxoci-helper')) ? here : join(here, '..', '..', 'dist');
  }
  return join(distDir, name);
}
