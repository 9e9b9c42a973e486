/** Households: comApi.gethousehold, addHousehold, modifyHousehold. */
import { Decimal } from '../../../money/decimal';
import { fail, fuzzy, paged, type Params } from '../params';
import type { Household } from '../platform';
import type { Handler } from './types';

const row = (h: Household) => ({
  id: h.id, householdName: h.householdName, householdFee: h.householdFee.toNumber(), serialnumber: h.serialnumber, phone: h.phone,
  areaOrgId: h.areaOrgId, householdAddress: h.householdAddress, householdWarnMoney: h.householdWarnMoney.toNumber(),
});

export const gethousehold: Handler = ({ platform, admin, p }) => {
  const areas = platform.scope(admin, p.int('areaId', { required: true, min: 0 }));
  const id = p.int('id', { min: 1 });
  const q = p.str('searchContent');
  const rows = [...platform.households.values()].filter((h) => areas.has(h.areaOrgId) && (id === undefined || h.id === id)
    && fuzzy(q, h.householdName, h.serialnumber, h.phone, h.householdAddress));
  return { errmsg: '', ...paged(rows.map(row), p.page(100)) };
};

function apply(h: Household, p: Params): void {
  const warn = p.dec('householdWarnMoney');
  const fee = p.dec('householdFee');
  for (const [field, key] of [['householdName', 'householdName'], ['householdAddress', 'householdAddress'], ['householdPhone', 'phone'], ['householdPassword', 'householdPassword']] as const) {
    const v = p.str(field);
    if (v !== undefined) h[key] = v;
  }
  if (warn) h.householdWarnMoney = warn;
  if (fee) h.householdFee = fee;
}

export const addHousehold: Handler = ({ platform, admin, p }) => {
  const areaId = p.int('areaId', { required: true, min: 1 })!;
  platform.scope(admin, areaId);
  const name = p.str('householdName', true)!;
  p.dec('householdFee', true);
  const id = platform.next('household');
  const h: Household = {
    id, householdName: name, householdAddress: '', phone: '', householdPassword: '123456', householdWarnMoney: Decimal.ZERO,
    householdFee: p.dec('householdFee', true)!, serialnumber: String(id).padStart(9, '0'), areaOrgId: areaId,
  };
  apply(h, p);
  platform.households.set(id, h);
  return { errmsg: 'succeed', householdId: id };
};

export const modifyHousehold: Handler = ({ platform, admin, p }) => {
  const id = p.int('id', { required: true, min: 1 })!;
  const h = platform.households.get(id);
  if (!h || !platform.visible(admin).has(h.areaOrgId)) return fail(`id ${id} is not a known household`);
  const areaId = p.int('areaId', { min: 1 });
  if (areaId !== undefined) { platform.scope(admin, areaId); h.areaOrgId = areaId; }
  apply(h, p);
  return { errmsg: 'succeed', householdId: id };
};
