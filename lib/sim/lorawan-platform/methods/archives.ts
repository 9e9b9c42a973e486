/** Meter files ("archives"): comApi.addMeter, modifyMeter, getAreaArchives, getAreaArchiveInfo. */
import { fail, fuzzy, paged, type Params } from '../params';
import type { Archive, Platform } from '../platform';
import type { Handler } from './types';

function money(p: Params, name: string): string | undefined {
  const d = p.dec(name);
  return d?.toString();
}

function references(platform: Platform, p: Params): { priceId?: number; areaId?: number } {
  const priceId = p.int('priceId', { min: 1 });
  if (priceId !== undefined && !platform.prices.has(priceId)) fail(`priceId ${priceId} is not a known price plan`);
  const areaId = p.int('areaId', { min: 1 });
  if (areaId !== undefined && !platform.area(areaId)) fail(`areaId ${areaId} is not a known area`);
  return { priceId, areaId };
}

const str = (p: Params, name: string) => p.str(name);

export const addMeter: Handler = ({ platform, p }) => {
  const devEui = p.devEui()!;
  if (platform.byEui(devEui, true)) fail(`devEui ${devEui} is already archived`);
  const { priceId, areaId } = references(platform, p);
  if (priceId === undefined) fail('pricelid is required');
  if (areaId === undefined) fail('areaId is required');
  const dosage = p.dec('normalDayDosage');
  if (dosage?.isNegative()) fail(`normalDayDosage ${JSON.stringify(p.get('normalDayDosage'))} must not be negative`);
  platform.addArchive({
    devEui, customerName: str(p, 'customerName'), customerPhone: str(p, 'customerPhone'), customerAddress: str(p, 'customerAddress'),
    customerCertificateNumber: str(p, 'customerCertificateNumber'), priceId: priceId!, areaId: areaId!, reading: money(p, 'reading'),
    customerFee: money(p, 'customerFee'), overdraftMoney: money(p, 'overdraftMoney'), normalDayDosage: dosage?.toString(),
    valveState: p.int('valveState', { min: 0, max: 2 }) ?? 2, gasType: p.int('gasType', { min: 0, max: 3 }) ?? 0,
    equipmentModelId: p.int('equipmentModelId', { min: 1 }) ?? 3,
  });
  return { errmsg: 'Add Successful!!' };
};

export const modifyMeter: Handler = ({ platform, p }) => {
  const a = platform.mustEui(p.devEui()!);
  const { priceId, areaId } = references(platform, p);
  // Validate everything before changing anything.
  const valveState = p.int('valveState', { min: 0, max: 2 });
  const gasType = p.int('gasType', { min: 0, max: 3 });
  const reading = p.dec('reading');
  const dosage = p.dec('normalDayDosage');
  const fee = p.dec('customerFee');
  const overdraft = p.dec('overdraftMoney');
  const model = p.int('equipmentModelId', { min: 1 });
  for (const k of ['customerName', 'customerPhone', 'customerAddress', 'customerCertificateNumber'] as const) {
    const v = p.str(k);
    if (v !== undefined) a[k] = v;
  }
  if (priceId !== undefined) a.priceId = priceId;
  if (areaId !== undefined) a.areaId = areaId;
  if (valveState !== undefined) a.valveState = valveState;
  if (gasType !== undefined) a.gasType = gasType;
  if (reading) platform.rebase(a, reading);
  if (dosage) { platform.rebase(a); a.normalDayDosage = dosage; }
  if (fee) a.balance = fee;
  if (overdraft) a.overdraftMoney = overdraft;
  if (model !== undefined) a.equipmentModelId = model;
  return { errmsg: 'success message' };
};

export function archiveRow(platform: Platform, a: Archive) {
  return {
    id: a.id, customerName: a.customerName, customerSerialnumber: a.customerSerialnumber, serialnumber: a.serialnumber,
    areaOrgId: a.areaId, areaOrgName: platform.area(a.areaId)?.areaName ?? '', readings: a.reading.toFixed(4),
    valveStatus: a.valveState, energyType: platform.energyType(a), phone: a.customerPhone, balance: a.balance.round(2).toNumber(),
    equipmentModelId: a.equipmentModelId, deveui: a.devEui,
  };
}

export const getAreaArchives: Handler = ({ platform, admin, p }) => {
  const areas = platform.scope(admin, p.int('areaId', { required: true, min: 0 }));
  const energyType = p.energyType();
  const q = p.str('searchContent');
  const model = p.int('sysconfigEquipmentId', { min: 0 });
  const rows = [...platform.archives.values()].filter((a) => !a.isDel && areas.has(a.areaId)
    && (!energyType || platform.energyType(a) === energyType) && (model === undefined || a.equipmentModelId === model)
    && fuzzy(q, a.customerName, a.customerSerialnumber, a.serialnumber, a.customerAddress, a.customerPhone, a.devEui, a.id));
  return { errmsg: 'search successful', ...paged(rows.map((a) => archiveRow(platform, a)), p.page(100)) };
};

export const getAreaArchiveInfo: Handler = ({ platform, admin, p }) => {
  const id = p.int('id', { required: true, min: 1 })!;
  const a = platform.archives.get(id);
  if (!a || a.isDel || !platform.visible(admin).has(a.areaId)) return fail(`id ${id} is not a known meter`);
  return {
    errmsg: 'search successful',
    value: { ...archiveRow(platform, a), priceId: a.priceId, equipmentType: 'LORAWAN', sysconfigMeterModel: a.sysconfigMeterModel, householdNum: a.householdNum },
  };
};
