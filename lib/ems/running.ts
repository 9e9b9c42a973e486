/**
 * The EMS services opened by running ems-system nodes, so code outside a flow (the dashboard plugin's gate)
 * can check sessions. Kept on a global symbol: one registry per process even if this module is loaded twice.
 */
import type { EmsServices } from './services';

const KEY = Symbol.for('node-red-contrib-ems.running-services');
const registry = ((globalThis as Record<symbol, unknown>)[KEY] ??= []) as EmsServices[];

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
