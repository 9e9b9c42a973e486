/**
 * The EMS services opened by running ems-system nodes, so code outside a flow (the dashboard plugin's gate)
 * can check sessions. Kept on a global symbol: one registry per process even if this module is loaded twice.
 */
import type { EmsServices } from './services';

const KEY = Symbol.for('node-red-contrib-ems.running-services');
const registry = ((globalThis as Record<symbol, unknown>)[KEY] ??= []) as EmsServices[];
const DEFINED = Symbol.for('node-red-contrib-ems.defined-systems');
const defined = ((globalThis as Record<symbol, unknown>)[DEFINED] ??= new Set<string>()) as Set<string>;

/** Called by an ems-system node when it is created (before its services open) and when it closes. */
export function defineSystem(nodeId: string): void {
  defined.add(nodeId);
}
export function undefineSystem(nodeId: string): void {
  defined.delete(nodeId);
}

/**
 * True while the flows define an EMS (an ems-system node, open or still opening): the dashboard is then
 * behind the EMS login, and closed (503) until the services open. A Node-RED whose flows define no EMS keeps
 * its dashboards as they are: there is no EMS data to guard, and its own adminAuth/httpNodeAuth decide.
 */
export function emsGuardsDashboard(): boolean {
  return defined.size > 0 || registry.length > 0;
}

/** Called by ems-system once its services are open. */
export function registerRunningServices(services: EmsServices): void {
  if (!registry.includes(services)) registry.push(services);
}

/** Called by ems-system before it closes its services. */
export function unregisterRunningServices(services: EmsServices): void {
  const i = registry.indexOf(services);
  if (i >= 0) registry.splice(i, 1);
}

/** The newest running EMS services, or undefined while no ems-system runs. */
export function runningServices(): EmsServices | undefined {
  return registry[registry.length - 1];
}
