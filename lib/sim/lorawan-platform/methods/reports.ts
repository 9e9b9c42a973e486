/** Lists over time: comApi.getMeterReadings, getValverecord, queryMonthBillInfo. */
import { fail, formatTime, fuzzy, paged, parseTime } from '../params';
import type { Archive } from '../platform';
import type { Handler, MethodContext } from './types';

function range({ platform, p }: MethodContext): [number, number] {
  const start = parseTime('startDate', p.str('startDate', true), platform.offset);
  const end = parseTime('endDate', p.str('endDate', true), platform.offset);
  if (end < start) fail(`endDate ${p.str('endDate')} is before startDate ${p.str('startDate')}`);
  return [start, end];
}

/** The archives of the requested area (and its subtree) and energy type. */
function archives(ctx: MethodContext): Map<number, Archive> {
  const { platform, admin, p } = ctx;
  const areas = platform.scope(admin, p.int('areaId', { required: true, min: 0 }));
  const energyType = p.energyType();
  return new Map([...platform.archives.values()]
    .filter((a) => !a.isDel && areas.has(a.areaId) && (!energyType || platform.energyType(a) === energyType))
    .map((a) => [a.id, a]));
}

export const getMeterReadings: Handler = (ctx) => {
  const { platform, p } = ctx;
  const [start, end] = range(ctx);
  const page = p.page(1000);
  const list = archives(ctx);
  const q = p.str('searchContent');
  const rows = platform.records.filter((r) => r.time >= start && r.time <= end && list.has(r.archive))
    .filter((r) => { const a = list.get(r.archive)!; return fuzzy(q, a.serialnumber, a.customerName, a.customerSerialnumber, a.devEui); })
    .sort((x, y) => y.time - x.time)
    .map((r) => {
      const a = list.get(r.archive)!;
      return {
        archivesAddress: a.serialnumber, archivesName: a.customerName, archivesNumber: a.customerSerialnumber, areaId: a.areaId,
        areaName: platform.areaPath(a.areaId), companyId: 0, energyType: platform.energyType(a), freezeReading: r.freeze.toFixed(4),
        id: r.id, isDel: false, level: '', margin: '', meterReadingState: '', meterReadingtime: formatTime(r.time, platform.offset),
        operatorId: 0, pressure: '', sensitivity: '', signalNoise: '9.5', signals: '-87', type: 'LORA', valve: r.valve, voltage: 3.6,
        readings: r.reading.toFixed(4), deveui: a.devEui,
      };
    });
  return { errmsg: '', ...paged(rows, page) };
};

export const getValverecord: Handler = (ctx) => {
  const { platform, p } = ctx;
  const [start, end] = range(ctx);
  const page = p.page(1000);
  const list = archives(ctx);
  const user = p.str('username');
  const number = p.str('userNumber');
  const op = p.int('operationType', { min: 0, max: 1 });
  const rows = platform.valveRecords.filter((r) => r.time >= start && r.time <= end && list.has(r.archive) && (op === undefined || r.executionType === op))
    .filter((r) => { const a = list.get(r.archive)!; return fuzzy(user, a.customerName) && fuzzy(number, a.customerSerialnumber); })
    .sort((x, y) => y.time - x.time || y.id - x.id)
    .map((r) => {
      const a = list.get(r.archive)!;
      return {
        companyId: 0, energyType: platform.energyType(a), executionType: r.executionType, id: r.id, isDel: false, operatorId: 0,
        resultInfo: r.resultInfo, valCause: r.valCause, valueId: r.valueId, username: a.customerName, userNumber: a.customerSerialnumber,
        dateTime: formatTime(r.time, platform.offset), status: r.status, deveui: a.devEui,
      };
    });
  return { errmsg: 'succeed', ...paged(rows, page) };
};

export const queryMonthBillInfo: Handler = (ctx) => {
  const { platform, p } = ctx;
  const page = p.page(1000);
  const billDate = p.str('billDate');
  if (billDate !== undefined && !/^\d{4}-(0[1-9]|1[0-2])$/.test(billDate)) fail(`billDate ${JSON.stringify(billDate)} must be a month yyyy-MM`);
  const user = p.str('username');
  const number = p.str('userNumber');
  const rows = [...archives(ctx).values()]
    .filter((a) => fuzzy(user, a.customerName) && fuzzy(number, a.customerSerialnumber))
    .flatMap((a) => platform.bills(a).filter((b) => !billDate || b.settlementDate === billDate).map((b) => ({
      areaName: platform.area(a.areaId)?.areaName ?? '', areaOrgId: a.areaId, billStatus: b.billStatus, customerName: a.customerName,
      customerSerialnumber: a.customerSerialnumber, dosage: b.dosage.trimmed().toString(), energyType: b.energyType, fee: b.fee.toNumber(),
      settlementDate: b.settlementDate, deveui: a.devEui,
    })));
  return { errmsg: 'Succeed', ...paged(rows, page) };
};
