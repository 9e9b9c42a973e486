/**
 * The state and business rules of the simulated LoRaWAN meter platform (digest §3-4): meters whose
 * registers advance at normalDayDosage per day (one uplink every `uplinkMs`, injectable clock),
 * prepaid balances charged at the price plan, the valve closing when balance < overdraftMoney and
 * reopening after a top-up, valve records, instructions, pay orders and monthly bills.
 */
import { Decimal } from '../../money/decimal';
import { ENERGY_CODE, fail, formatTime, type EnergyType } from './params';
import seedData from './seed.json';

const DAY = 86_400_000;

export interface PlatformOptions {
  now?: () => number;
  /** Time between a meter's uplinks (ms, default 15 min). */
  uplinkMs?: number;
  /** Offset of the platform's local time from UTC in minutes (default 0). */
  utcOffsetMin?: number;
  /** "immediate" (default) or "uplink": commands apply at the meter's next uplink (Class A). */
  delivery?: 'immediate' | 'uplink';
  /** Reopen a valve closed for lack of balance once a top-up lifts it to the threshold (default true). */
  autoReopen?: boolean;
  /** Login token lifetime (ms, default 2 h). */
  tokenTtlMs?: number;
  seed?: typeof seedData;
}

export interface Price { priceId: number; priceName: string; createDate: string; energyType: EnergyType; price?: Decimal; flatPrice?: Decimal; peakPrice?: Decimal; valleyPrice?: Decimal; tipPrice?: Decimal }
export interface Archive {
  id: number; devEui: string; customerName: string; customerPhone: string; customerAddress: string; customerCertificateNumber: string;
  customerSerialnumber: string; serialnumber: string; priceId: number; areaId: number; equipmentModelId: number; sysconfigMeterModel: number;
  householdNum: number; gasType: number; valveState: number; overdraftMoney: Decimal; normalDayDosage: Decimal; balance: Decimal;
  /** Register = base + dosage x flowing time; base moves when the dosage or reading is edited. */
  base: Decimal; flowMs: number; reading: Decimal; lastUplink: number; created: number; startReading: Decimal;
  closedFor?: 'balance' | 'command'; isDel: boolean; dayEnd: Map<string, Decimal>; monthEnd: Map<string, Decimal>;
}
export interface ReadingRecord { id: number; archive: number; time: number; reading: Decimal; valve: number; freeze: Decimal }
export interface ValveRecord { id: number; archive: number; executionType: number; valueId: number; time: number; status: string; resultInfo: string; valCause: string }
export interface Instruction { valueId: number; devEui: string; kind: 'valve' | 'topup' | 'command'; params: Record<string, unknown>; state: 'pending' | 'succeed' | 'failed'; created: number; done?: number }
export interface PayOrder { sn: string; devEui: string; fee: Decimal; state: number; time: number; valueId: number }
export interface Household { id: number; householdName: string; householdAddress: string; phone: string; householdPassword: string; householdWarnMoney: Decimal; householdFee: Decimal; serialnumber: string; areaOrgId: number }
export type Admin = typeof seedData.admins[number];

export class Platform {
  readonly now: () => number;
  readonly uplinkMs: number;
  readonly offset: number;
  readonly delivery: 'immediate' | 'uplink';
  readonly autoReopen: boolean;
  readonly tokenTtlMs: number;
  admins: Admin[];
  areas: { areaid: number; areaName: string; parentId: number }[];
  prices = new Map<number, Price>();
  archives = new Map<number, Archive>();
  households = new Map<number, Household>();
  gateways = new Map<string, Record<string, unknown>>();
  loraDevices = new Map<string, Record<string, unknown>>();
  records: ReadingRecord[] = [];
  valveRecords: ValveRecord[] = [];
  instructions = new Map<number, Instruction>();
  orders: PayOrder[] = [];
  private seq = { price: 15, archive: 3000, household: 44, record: 208270, valve: 585, valueId: 266393, order: 1 };

  constructor(o: PlatformOptions = {}) {
    this.now = o.now ?? Date.now;
    this.uplinkMs = o.uplinkMs ?? 15 * 60_000;
    this.offset = o.utcOffsetMin ?? 0;
    this.delivery = o.delivery ?? 'immediate';
    this.autoReopen = o.autoReopen ?? true;
    this.tokenTtlMs = o.tokenTtlMs ?? 2 * 3600_000;
    const seed = structuredClone(o.seed ?? seedData);
    this.admins = seed.admins;
    this.areas = seed.areas;
    const dec = (v: string | undefined) => (v === undefined ? undefined : Decimal.from(v));
    for (const p of seed.prices as unknown as Record<string, string | number>[]) {
      this.prices.set(Number(p.priceId), {
        priceId: Number(p.priceId), priceName: String(p.priceName), createDate: String(p.createDate), energyType: p.energyType as EnergyType,
        price: dec(p.price as string), flatPrice: dec(p.flatPrice as string), peakPrice: dec(p.peakPrice as string),
        valleyPrice: dec(p.valleyPrice as string), tipPrice: dec(p.tipPrice as string),
      });
    }
    for (const h of seed.households) {
      this.households.set(h.id, { ...h, householdWarnMoney: Decimal.from(h.householdWarnMoney), householdFee: Decimal.from(h.householdFee) });
    }
    for (const a of seed.archives) this.addArchive({ ...a, id: a.id });
    for (const g of seed.gateways) this.gateways.set(g.gwID.toLowerCase(), g);
    for (const d of seed.loraDevices) this.loraDevices.set(d.devEUI.toLowerCase(), d);
  }

  next(kind: keyof Platform['seq']): number {
    return ++this.seq[kind];
  }

  // ---- areas ----
  area(id: number) {
    return this.areas.find((a) => a.areaid === id);
  }
  /** The area and all its descendants. */
  subtree(id: number): Set<number> {
    const out = new Set<number>([id]);
    for (let grew = true; grew;) {
      grew = false;
      for (const a of this.areas) if (out.has(a.parentId) && !out.has(a.areaid)) { out.add(a.areaid); grew = true; }
    }
    return out;
  }
  /** The areas an admin may see (its manageArea subtrees). */
  visible(admin: Admin): Set<number> {
    return new Set(admin.manageArea.flatMap((id) => [...this.subtree(id)]));
  }
  /** An area id the admin may query, with its subtree; -1 naming the id otherwise. */
  scope(admin: Admin, areaId: number | undefined): Set<number> {
    if (areaId === undefined) return fail('areaId is required');
    if (!this.area(areaId)) return fail(`areaId ${areaId} is not a known area`);
    if (!this.visible(admin).has(areaId)) return fail(`areaId ${areaId} is not managed by ${admin.username}`);
    return this.subtree(areaId);
  }
  areaPath(id: number): string {
    const names: string[] = [];
    for (let a = this.area(id); a; a = a.parentId ? this.area(a.parentId) : undefined) names.unshift(a.areaName);
    return names.join('-');
  }

  // ---- archives ----
  addArchive(a: {
    id?: number; devEui: string; customerName?: string; customerPhone?: string; customerAddress?: string; customerCertificateNumber?: string;
    customerSerialnumber?: string; serialnumber?: string; priceId: number; areaId: number; reading?: string; customerFee?: string;
    overdraftMoney?: string; normalDayDosage?: string; valveState?: number; gasType?: number; equipmentModelId?: number;
    sysconfigMeterModel?: number; householdNum?: number;
  }): Archive {
    const now = this.now();
    const stamp = formatTime(now, this.offset).replace(/\D/g, '');
    const reading = Decimal.from(a.reading ?? '0');
    const archive: Archive = {
      id: a.id ?? this.next('archive'), devEui: a.devEui.toLowerCase(), customerName: a.customerName ?? '', customerPhone: a.customerPhone ?? '',
      customerAddress: a.customerAddress ?? '', customerCertificateNumber: a.customerCertificateNumber ?? '',
      customerSerialnumber: a.customerSerialnumber ?? `USER${stamp}`, serialnumber: a.serialnumber ?? stamp,
      priceId: a.priceId, areaId: a.areaId, equipmentModelId: a.equipmentModelId ?? 3, sysconfigMeterModel: a.sysconfigMeterModel ?? 8,
      householdNum: a.householdNum ?? 0, gasType: a.gasType ?? 0, valveState: a.valveState ?? 2,
      overdraftMoney: Decimal.from(a.overdraftMoney ?? '0'), normalDayDosage: Decimal.from(a.normalDayDosage ?? '0'),
      balance: Decimal.from(a.customerFee ?? '0'), base: reading, flowMs: 0, reading, lastUplink: now, created: now, startReading: reading,
      isDel: false, dayEnd: new Map(), monthEnd: new Map(),
    };
    this.archives.set(archive.id, archive);
    return archive;
  }
  byEui(devEui: string, includeDeleted = false): Archive | undefined {
    const e = devEui.toLowerCase();
    for (const a of this.archives.values()) if (a.devEui === e && (includeDeleted || !a.isDel)) return a;
    return undefined;
  }
  mustEui(devEui: string): Archive {
    return this.byEui(devEui) ?? fail(`devEui ${devEui} is not archived`);
  }
  price(a: Archive): Price {
    return this.prices.get(a.priceId) ?? fail(`priceId ${a.priceId} of meter ${a.devEui} is unknown`);
  }
  energyType(a: Archive): EnergyType {
    return this.prices.get(a.priceId)?.energyType ?? 'WATER';
  }
  /** Unit price: `price`, or for time-of-use plans the flat (shoulder) price. */
  unitPrice(a: Archive): Decimal {
    const p = this.price(a);
    return p.price ?? p.flatPrice ?? Decimal.ZERO;
  }
  prepaid(a: Archive): boolean {
    return a.gasType % 2 === 1;
  }
  /** Re-anchor the register (after editing the reading or the daily dosage). */
  rebase(a: Archive, reading = a.reading): void {
    a.base = reading;
    a.flowMs = 0;
    a.reading = reading;
  }

  // ---- time ----
  /** Runs every meter's uplinks up to now. Called before each request. */
  advance(): void {
    const now = this.now();
    for (const a of this.archives.values()) {
      if (a.isDel) { a.lastUplink = Math.max(a.lastUplink, now); continue; }
      const due = Math.floor((now - a.lastUplink) / this.uplinkMs);
      if (due <= 0) continue;
      const step = due > 5000 ? Math.floor((now - a.lastUplink) / 5000) : this.uplinkMs;
      while (a.lastUplink + step <= now) this.uplink(a, a.lastUplink + step);
    }
  }

  private uplink(a: Archive, t: number): void {
    const dt = t - a.lastUplink;
    a.lastUplink = t;
    for (const ins of this.instructions.values()) if (ins.state === 'pending' && ins.devEui === a.devEui) this.deliver(ins, t);
    if (a.valveState !== 0) a.flowMs += dt;
    const reading = a.base.add(a.normalDayDosage.mul(a.flowMs).div(DAY, 4, 'half-up'));
    const delta = reading.sub(a.reading);
    a.reading = reading;
    if (this.prepaid(a) && !delta.isZero()) {
      a.balance = a.balance.sub(delta.mul(this.unitPrice(a)));
      if (a.balance.cmp(a.overdraftMoney) < 0 && a.valveState !== 0) this.valve(a, 0, t, 'balance');
    }
    const day = formatTime(t - 1, this.offset).slice(0, 10);
    a.dayEnd.set(day, reading);
    a.monthEnd.set(day.slice(0, 7), reading);
    this.records.push({ id: this.next('record'), archive: a.id, time: t, reading, valve: a.valveState, freeze: this.freeze(a, t) });
    if (this.records.length > 200_000) this.records.splice(0, this.records.length - 200_000);
  }

  /** The frozen (midnight) reading: the register at the end of the previous local day. */
  freeze(a: Archive, t: number): Decimal {
    const today = formatTime(t, this.offset).slice(0, 10);
    let best: string | undefined;
    for (const d of a.dayEnd.keys()) if (d < today && (!best || d > best)) best = d;
    return best ? a.dayEnd.get(best)! : a.startReading;
  }

  /** Consumption of a day (yyyy-MM-dd) or month (yyyy-MM): its closing register minus the previous one. */
  consumption(a: Archive, period: string): Decimal {
    const ends = period.length === 7 ? a.monthEnd : a.dayEnd;
    const keys = [...ends.keys()].sort();
    const endKey = keys.filter((k) => k <= period).pop();
    if (endKey !== period) return Decimal.ZERO;
    const prev = keys.filter((k) => k < period).pop();
    return ends.get(period)!.sub(prev ? ends.get(prev)! : a.startReading);
  }

  /** Monthly bills of completed months: fee = dosage x price (prepaid ones born paid). */
  bills(a: Archive): { settlementDate: string; dosage: Decimal; fee: Decimal; billStatus: string; energyType: number }[] {
    const current = formatTime(this.now(), this.offset).slice(0, 7);
    return [...a.monthEnd.keys()].filter((m) => m < current).sort().map((m) => {
      const dosage = this.consumption(a, m);
      return { settlementDate: m, dosage, fee: dosage.mul(this.unitPrice(a)).round(2), billStatus: this.prepaid(a) ? '1' : '0', energyType: ENERGY_CODE[this.energyType(a)] };
    });
  }

  // ---- valves, top-ups, instructions ----
  instruction(devEui: string, kind: Instruction['kind'], params: Record<string, unknown>): Instruction {
    const ins: Instruction = { valueId: this.next('valueId'), devEui: devEui.toLowerCase(), kind, params, state: 'pending', created: this.now() };
    this.instructions.set(ins.valueId, ins);
    if (this.delivery === 'immediate') this.deliver(ins, ins.created);
    return ins;
  }

  private deliver(ins: Instruction, t: number): void {
    const a = this.byEui(ins.devEui);
    ins.done = t;
    if (!a) { ins.state = 'failed'; return; }
    ins.state = 'succeed';
    if (ins.kind === 'valve') this.valve(a, Number(ins.params.valveState), t, 'command', ins.valueId);
    if (ins.kind === 'topup') {
      const order = this.orders.find((o) => o.valueId === ins.valueId);
      if (order) order.state = 2;
      a.balance = a.balance.add(Decimal.from(String(ins.params.topUpAmount)));
      if (this.autoReopen && a.valveState === 0 && a.closedFor === 'balance' && a.balance.cmp(a.overdraftMoney) >= 0) this.valve(a, 1, t, 'balance', ins.valueId);
    }
  }

  /** Switches a valve and keeps the valve control record. */
  valve(a: Archive, state: number, t: number, cause: 'balance' | 'command', valueId?: number): void {
    a.valveState = state;
    a.closedFor = state === 0 ? cause : undefined;
    this.valveRecords.push({
      id: this.next('valve'), archive: a.id, executionType: state, valueId: valueId ?? this.next('valueId'), time: t, status: 'succeed',
      resultInfo: 'Keep valve control record', valCause: cause === 'balance' ? (state === 0 ? 'balance below overdraft' : 'top-up') : '',
    });
  }
}
