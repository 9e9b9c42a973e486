/** Top-up and meter processing: lorawanApi.remotelyTopUp, getPaymod, queryPayorders, archivesChange (code 200/300 per device). */
import { Decimal } from '../../../money/decimal';
import { checkEui, fail, formatTime, paged, parseTime } from '../params';
import type { Handler } from './types';

export const remotelyTopUp: Handler = ({ platform, p }) => {
  const a = platform.mustEui(p.devEui()!);
  const amount = p.dec('topUpAmount', true)!;
  if (amount.cmp(0) <= 0) fail(`topUpAmount ${JSON.stringify(p.get('topUpAmount'))} must be more than 0`);
  if (!platform.prepaid(a)) fail(`devEui ${a.devEui} is a postpaid meter (gasType ${a.gasType}); top-up needs a prepaid one`);
  const ins = platform.instruction(a.devEui, 'topup', { topUpAmount: amount.toString() });
  platform.orders.push({
    sn: `PO${formatTime(platform.now(), platform.offset).replace(/\D/g, '')}${String(platform.next('order')).padStart(4, '0')}`,
    devEui: a.devEui, fee: amount, state: ins.state === 'succeed' ? 2 : 1, time: platform.now(), valueId: ins.valueId,
  });
  return { errmsg: 'success message', valueId: String(ins.valueId) };
};

export const getPaymod: Handler = ({ platform, p }) => {
  const data = p.devEuis().map((devEui) => {
    const a = platform.byEui(devEui);
    return a ? { devEui, paymod: a.gasType % 2, code: 200, msg: 'success' } : { devEui, paymod: 2, code: 300, msg: `devEui ${devEui} is not archived` };
  });
  return { errmsg: 'success message', code: 200, msg: 'success', data };
};

export const queryPayorders: Handler = ({ platform, p }) => {
  const euis = p.devEuis();
  const now = platform.now();
  const start = p.has('startDate') ? parseTime('startDate', dateTime(p.str('startDate')!, '00:00:00'), platform.offset) : now - 2 * 86_400_000;
  const end = p.has('endDate') ? parseTime('endDate', dateTime(p.str('endDate')!, '23:59:59'), platform.offset) : now;
  const page = p.page(1000);
  const rows = platform.orders.filter((o) => euis.includes(o.devEui) && o.time >= start && o.time <= end)
    .map((o) => ({ devEui: o.devEui, sn: o.sn, fee: o.fee.toNumber(), state: o.state, tradingHours: formatTime(o.time, platform.offset), code: 200, msg: 'success' }));
  const known = euis.every((e) => platform.byEui(e, true));
  return { errmsg: 'success message', code: known ? 200 : 300, msg: known ? 'success' : 'unknown devEui', ...paged(rows, page), data: paged(rows, page).values };
};

/** "yyyy-MM-dd" gets a time of day; a full "yyyy-MM-dd HH:mm:ss" is kept. */
function dateTime(text: string, time: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text} ${time}` : text;
}

export const archivesChange: Handler = ({ platform, p }) => {
  const type = p.str('type', true)!;
  const one = (devEui: string, ok: boolean, msg: string) => ({ devEui, type, code: ok ? 200 : 300, msg });
  let data: Record<string, unknown>[];
  if (type === '0' || type === '2') {
    const remove = type === '0';
    data = p.devEuis().map((e) => {
      const a = platform.byEui(e, true);
      if (!a) return one(e, false, `devEui ${e} is not archived`);
      if (a.isDel === remove) return one(e, false, `devEui ${e} is ${remove ? 'already removed' : 'not removed'}`);
      a.isDel = remove;
      return one(e, true, remove ? 'removed' : 'recovered');
    });
  } else if (type === '1') {
    const oldDeveui = checkEui('oldDeveui', p.str('oldDeveui', true)!);
    const newDeveui = checkEui('newDeveui', p.str('newDeveui', true)!);
    const a = platform.byEui(oldDeveui);
    const fault = !a ? `oldDeveui ${oldDeveui} is not archived` : platform.byEui(newDeveui, true) ? `newDeveui ${newDeveui} is already in use` : '';
    if (a && !fault) { a.devEui = newDeveui; platform.rebase(a, Decimal.ZERO); }
    data = [{ oldDeveui, newDeveui, type, code: fault ? 300 : 200, msg: fault || 'replaced' }];
  } else {
    data = [{ type, code: 300, msg: `type ${JSON.stringify(type)} must be 0 (removal), 1 (replacement) or 2 (recovery)` }];
  }
  const ok = data.every((d) => d.code === 200);
  return { errmsg: ok ? 'success message' : 'partly failed', code: ok ? 200 : 300, msg: ok ? 'success' : String(data.find((d) => d.code !== 200)!.msg), data };
};
