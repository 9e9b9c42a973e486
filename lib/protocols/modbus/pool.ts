import { ModbusBus, type BusOptions } from './bus';
import { endpointKey, ModbusSerialIO, type Endpoint, type RegisterIO } from './io';

interface Entry { bus: ModbusBus; users: number }
const buses = new Map<string, Entry>();

/**
 * One bus per physical endpoint in the process, reference-counted: two config nodes naming the same
 * serial port or host:port share it (a serial port cannot be opened twice; a gateway wants one
 * connection). The first user's options win.
 */
export function acquireBus(endpoint: Endpoint, options: Partial<BusOptions> = {}, makeIO: (e: Endpoint) => RegisterIO = (e) => new ModbusSerialIO(e)): ModbusBus {
  const key = endpointKey(endpoint);
  let entry = buses.get(key);
  if (!entry) {
    entry = { bus: new ModbusBus(makeIO(endpoint), options), users: 0 };
    buses.set(key, entry);
  }
  entry.users++;
  return entry.bus;
}

/** Drops one use; the last user closes the link. */
export async function releaseBus(bus: ModbusBus): Promise<void> {
  for (const [key, entry] of buses) {
    if (entry.bus !== bus) continue;
    if (--entry.users <= 0) {
      buses.delete(key);
      await bus.close();
    }
    return;
  }
}
