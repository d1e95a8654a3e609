import { NodeDriver } from './node-driver.js';
import { StateStore } from './state.js';

export interface Globals {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
  systemdCgroup: boolean;
  rootless?: string;
}

export interface Context {
  globals: Globals;
  store: StateStore;
  driver: NodeDriver;
}

export function makeContext(globals: Globals): Context {
  return { globals, store: new StateStore(globals.root), driver: new NodeDriver() };
}
