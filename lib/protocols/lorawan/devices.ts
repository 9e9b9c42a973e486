/**
 * How an EMS meter definition describes a LoRaWAN device (protocol "lorawan"; never polled):
 * - number_meter: the DevEUI, 16 hex digits (dashes/colons allowed);
 * - profile: the codec id (lib/protocols/lorawan/codecs), empty = the network server's decoded object;
 * - password: "NwkSKey:AppSKey" (hex) for raw PHYPayloads only; stored by the EMS, never returned by its API;
 * - connection_address: the DevAddr (8 hex digits) for raw PHYPayloads (ignored when it is not 8 hex digits,
 *   e.g. the default "1").
 */
import { findCodec } from './codecs';
import { normaliseEui } from './events';
import { parseSessionKeys, type LorawanDevice } from './uplink';

export interface LorawanMeterLike {
  _id: string;
  definition: { protocol: string; number_meter: string; connection_address?: string; password?: string; profile?: string; name?: string };
}

/** The device a lorawan meter definition describes; throws naming the meter and field. */
export function deviceFromMeter(m: LorawanMeterLike): LorawanDevice {
  const d = m.definition;
  const where = `meter ${JSON.stringify(d.name ?? m._id)}`;
  try {
    const devEui = normaliseEui(d.number_meter, 'number_meter (DevEUI)');
    const device: LorawanDevice = { meterId: m._id, devEui };
    const addr = String(d.connection_address ?? '').trim().toLowerCase();
    if (/^[0-9a-f]{8}$/.test(addr)) device.devAddr = addr;
    if (d.profile) { findCodec(d.profile); device.codec = d.profile; }
    if (d.password) Object.assign(device, parseSessionKeys(d.password));
    return device;
  } catch (err) {
    throw new Error(`${where}: ${(err as Error).message}`);
  }
}

/** Finds the lorawan meter of a DevEUI (or, for raw frames without one, of a DevAddr). */
export function findLorawanMeter<M extends LorawanMeterLike>(meters: M[], key: { devEui?: string; devAddr?: string }): M | undefined {
  const lorawan = meters.filter((m) => m.definition.protocol === 'lorawan');
  if (key.devEui) return lorawan.find((m) => String(m.definition.number_meter).replace(/[-:\s]/g, '').toLowerCase() === key.devEui);
  if (key.devAddr) return lorawan.find((m) => String(m.definition.connection_address ?? '').trim().toLowerCase() === key.devAddr);
  return undefined;
}
