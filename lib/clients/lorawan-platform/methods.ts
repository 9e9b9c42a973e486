/**
 * Every documented method: its action and the argument key the seed's sample uses ("param" or
 * "params"; the two price-list reads take none). `lorawanApi.addMeter` (network provisioning) is
 * named "addLorawanMeter" here to tell it from comApi's billing "addMeter"; "action.method" works too.
 */
export type ArgKey = 'param' | 'params' | 'none';
export interface MethodSpec { action: string; method: string; key: ArgKey }

const table: [string, string, ArgKey][] = [
  // comApi: the public API
  ['comApi', 'getAreaOrg', 'param'], ['comApi', 'toLogin', 'params'], ['comApi', 'logout', 'params'],
  ['comApi', 'addMeterPrice', 'params'], ['comApi', 'modifyMeterPrice', 'param'], ['comApi', 'readAllPrices', 'none'],
  ['comApi', 'readAllPricesV2', 'none'], ['comApi', 'addMeter', 'param'], ['comApi', 'modifyMeter', 'param'],
  ['comApi', 'getAreaArchives', 'params'], ['comApi', 'getAreaArchiveInfo', 'params'], ['comApi', 'gethousehold', 'params'],
  ['comApi', 'addHousehold', 'params'], ['comApi', 'modifyHousehold', 'params'], ['comApi', 'getMeterReadings', 'params'],
  ['comApi', 'getValverecord', 'params'], ['comApi', 'queryMonthBillInfo', 'params'],
  // lorawanApi: network, traffic, valve, top-up, meter processing
  ['lorawanApi', 'addGateway', 'param'], ['lorawanApi', 'modifyGateway', 'param'], ['lorawanApi', 'readGatewayStatus', 'param'],
  ['lorawanApi', 'addMeter', 'param'], ['lorawanApi', 'queryRealTimeData', 'param'], ['lorawanApi', 'queryAllDailyConsumption', 'param'],
  ['lorawanApi', 'queryAllMonthlyConsumption', 'param'], ['lorawanApi', 'readValveStatus', 'param'], ['lorawanApi', 'remotelyTopUp', 'param'],
  ['lorawanApi', 'getPaymod', 'param'], ['lorawanApi', 'queryPayorders', 'param'], ['lorawanApi', 'archivesChange', 'param'],
  // lorawanMeterApi: meter control
  ['lorawanMeterApi', 'setValveState', 'param'], ['lorawanMeterApi', 'sendCommand', 'param'], ['lorawanMeterApi', 'queryCommandResult', 'param'],
];

export const METHODS: readonly MethodSpec[] = table.map(([action, method, key]) => ({ action, method, key }));

/** Resolves "getAreaArchives", "lorawanApi.addMeter" or "addLorawanMeter"; unknown names throw naming them. */
export function methodSpec(name: string): MethodSpec {
  const n = name.trim();
  if (n === 'addLorawanMeter') return METHODS.find((m) => m.action === 'lorawanApi' && m.method === 'addMeter')!;
  const dot = n.indexOf('.');
  if (dot > 0) {
    const action = n.slice(0, dot);
    const method = n.slice(dot + 1);
    return METHODS.find((m) => m.action === action && m.method === method) ?? { action, method, key: 'param' };
  }
  const spec = METHODS.find((m) => m.method === n);
  if (!spec) throw new Error(`method ${JSON.stringify(name)} is not a platform method (e.g. getMeterReadings, remotelyTopUp, setValveState; or action.method)`);
  return spec;
}
