// Filled in by scripts/build.mjs from package.json and git; the fallbacks serve runs from source.
declare const __PXOCI_VERSION__: string | undefined;
declare const __PXOCI_COMMIT__: string | undefined;
export const VERSION = typeof __PXOCI_VERSION__ === 'string' ? __PXOCI_VERSION__ : '0.0.0-dev';
export const COMMIT = typeof __PXOCI_COMMIT__ === 'string' ? __PXOCI_COMMIT__ : 'unknown';
export const SPEC_VERSION = '1.2.0';

export function versionText(): string {
  return `pxoci version ${VERSION}\ncommit: ${COMMIT}\nspec: ${SPEC_VERSION}\n`;
}
