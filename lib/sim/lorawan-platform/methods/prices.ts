/** Price plans: comApi.addMeterPrice, modifyMeterPrice, readAllPrices, readAllPricesV2. */
import { Decimal } from '../../../money/decimal';
import { ENERGY_TYPES, fail, type Params } from '../params';
import type { Price } from '../platform';
import type { Handler } from './types';

function money(p: Params, name: string, required: boolean): Decimal | undefined {
  const d = p.dec(name, required);
  if (d && d.isNegative()) fail(`${name} ${JSON.stringify(p.get(name))} must not be negative`);
  return d;
}

function uniqueName(plans: Iterable<Price>, name: string, except?: number): void {
  for (const x of plans) if (x.priceName === name && x.priceId !== except) fail(`priceName ${JSON.stringify(name)} already exists`);
}

const TOU = ['flatPrice', 'peakPrice', 'valleyPrice', 'tipPrice'] as const;

export const addMeterPrice: Handler = ({ platform, p }) => {
  const energyType = p.energyType(true)!;
  if (!(ENERGY_TYPES as readonly string[]).includes(energyType)) fail(`energyTypes ${JSON.stringify(energyType)} must be one of ${ENERGY_TYPES.join(', ')}`);
  const priceName = p.str('priceName', true)!;
  uniqueName(platform.prices.values(), priceName);
  const plan: Price = { priceId: platform.next('price'), priceName, createDate: new Date(platform.now()).toISOString().slice(0, 10), energyType, price: money(p, 'price', true) };
  for (const k of TOU) plan[k] = money(p, k, false);
  platform.prices.set(plan.priceId, plan);
  return { errmsg: 'Added successfully!!', priceId: String(plan.priceId) };
};

export const modifyMeterPrice: Handler = ({ platform, p }) => {
  const id = p.int('priceId', { required: true, min: 1 })!;
  const plan = platform.prices.get(id) ?? fail(`priceId ${id} is not a known price plan`);
  const name = p.str('priceName');
  if (name !== undefined) { uniqueName(platform.prices.values(), name, id); plan.priceName = name; }
  const price = money(p, 'price', false);
  if (price) plan.price = price;
  for (const k of TOU) { const v = money(p, k, false); if (v) plan[k] = v; }
  return { errmsg: 'success message', priceld: String(id) };
};

const num = (d: Decimal | undefined) => (d === undefined ? undefined : d.toNumber());

export const readAllPricesV2: Handler = ({ platform }) => ({
  errmsg: 'search successful!',
  data: [...platform.prices.values()].map((x) => ({
    pricelid: x.priceId, priceName: x.priceName, createDate: x.createDate, energyType: x.energyType,
    ...(x.energyType === 'ELECTRICITY' && x.flatPrice !== undefined
      ? { flatPrice: num(x.flatPrice), peakPrice: num(x.peakPrice ?? x.flatPrice), valleyPrice: num(x.valleyPrice ?? x.flatPrice), tipPrice: num(x.tipPrice ?? x.flatPrice) }
      : {}),
    ...(x.price !== undefined ? { price: num(x.price) } : {}),
  })),
});

/** The seed's "data": "pricelist" placeholder: the same list as V2. */
export const readAllPrices: Handler = (ctx) => ({ ...readAllPricesV2(ctx), errmsg: 'success message' });
