/** LoRaWAN network management: lorawanApi.addGateway, modifyGateway, readGatewayStatus, addMeter. */
import { fail, type Params } from '../params';
import type { Handler } from './types';

/** Gateway ids: 16 hex characters; the seed's own samples have 15 with a space, so whitespace is stripped and 15 accepted. */
function gwId(p: Params): string {
  const raw = p.str('gwID', true)!;
  const id = raw.replace(/\s+/g, '').toLowerCase();
  if (!/^[0-9a-f]{15,16}$/.test(id)) fail(`gwID ${JSON.stringify(raw)} must be 16 hexadecimal characters`);
  return id;
}

function name(p: Params, field: string, required: boolean): string | undefined {
  const v = p.str(field, required);
  if (v !== undefined && !/^[A-Za-z0-9_]{1,20}$/.test(v)) fail(`${field} ${JSON.stringify(v)} must be 1-20 letters, digits or underscores`);
  return v;
}

function hex(p: Params, field: string, length: number, required: boolean): string | undefined {
  const v = p.str(field, required);
  if (v !== undefined && !new RegExp(`^[0-9a-fA-F]{${length}}$`).test(v)) fail(`${field} ${JSON.stringify(v)} must be ${length} hexadecimal characters`);
  return v?.toLowerCase();
}

export const addGateway: Handler = ({ platform, p }) => {
  const id = gwId(p);
  if (platform.gateways.has(id)) fail(`gwID ${id} already exists`);
  platform.gateways.set(id, {
    gwID: id, gwName: name(p, 'gwName', true), gwType: p.str('gwType') ?? 'rhf2s208', enableClassB: false, enablePFW: true,
    region: p.str('region') ?? 'eu868', subnet: p.str('subnet') ?? 'ch_00-07', online: true, mqtt: false, latitude: 0, longitude: 0, altitude: 0,
    createtime: platform.now(),
  });
  return { errmsg: 'success message' };
};

export const modifyGateway: Handler = ({ platform, p }) => {
  const id = gwId(p);
  const g = platform.gateways.get(id) ?? fail(`gwID ${id} is not a known gateway`);
  const n = name(p, 'gwName', false);
  if (n !== undefined) g.gwName = n;
  const t = p.str('gwType');
  if (t !== undefined) g.gwType = t;
  return { errmsg: 'success message' };
};

export const readGatewayStatus: Handler = ({ platform, p }) => {
  const id = gwId(p);
  return { errmsg: 'success message', data: platform.gateways.get(id) ?? fail(`gwID ${id} is not a known gateway`) };
};

/** lorawanApi.addMeter: provisions a LoRaWAN device (ABP needs devAddr and both session keys). */
export const addLoraMeter: Handler = ({ platform, p }) => {
  const devEUI = p.devEui('devEui')!;
  if (platform.loraDevices.has(devEUI)) fail(`devEUI ${devEUI} already exists`);
  const authType = (p.str('authType') ?? 'abp').toLowerCase();
  if (authType !== 'abp' && authType !== 'otaa') fail(`authType ${JSON.stringify(authType)} must be abp or otaa`);
  const abp = authType === 'abp';
  platform.loraDevices.set(devEUI, {
    appID: p.str('appID', true), devName: name(p, 'devName', true), devEUI, appEUI: hex(p, 'appEUI', 16, true), region: p.str('region') ?? 'eu868',
    subnet: p.str('subnet') ?? 'ch_00-07', authType, devAddr: hex(p, 'devAddr', 8, abp), appSKey: hex(p, 'appSKey', 32, abp), nwkSKey: hex(p, 'nwkSKey', 32, abp),
  });
  return { errmsg: 'success message' };
};
