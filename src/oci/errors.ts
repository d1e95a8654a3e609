/** A config.json field pxoci cannot apply on a PVE node: the message names the field and why. */
export class ConfigError extends Error {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}
