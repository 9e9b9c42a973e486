/** Traffic and valve queries: lorawanApi.queryRealTimeData, queryAllDailyConsumption, queryAllMonthlyConsumption, readValveStatus. */
import { formatTime } from '../params';
import type { Handler } from './types';

export const queryRealTimeData: Handler = ({ platform, p }) => {
  const a = platform.mustEui(p.devEui()!);
  const readTime = formatTime(a.lastUplink, platform.offset);
  const flow = a.reading.toFixed(4);
  if (platform.energyType(a) === 'LIQUEFIEDGAS') return { errmsg: 'search successful!', data: { devEui: a.devEui, readTime, margin: '100%', leakageMark: 'false' } };
  if (platform.energyType(a) === 'ELECTRICITY') {
    return { errmsg: 'Response message', data: { devEui: a.devEui, readTime, cumulantFlow: flow, positiveCumulantFlow: flow, inverseCumulantFlow: '-', instantFlow: '-' } };
  }
  const instant = a.valveState === 0 ? '0.0000' : a.normalDayDosage.div(24, 4, 'half-up').toFixed(4);
  return { errmsg: 'Response message', data: { devEui: a.devEui, readTime, cumulantFlow: flow, positiveCumulantFlow: flow, inverseCumulantFlow: '0.0000', instantFlow: instant } };
};

/** Usage of one day or month per device; an empty or invalid date means today / this month. One object for one device, an array for several. */
function usage(kind: 'day' | 'month'): Handler {
  return ({ platform, p }) => {
    const euis = p.devEuis('devEui');
    const date = p.str('date');
    const valid = kind === 'day' ? /^\d{4}-\d{2}-\d{2}$/ : /^\d{4}-\d{2}$/;
    const period = date && valid.test(date) ? date : formatTime(platform.now(), platform.offset).slice(0, kind === 'day' ? 10 : 7);
    const data = euis.map((e) => {
      const a = platform.mustEui(e);
      return { devEui: a.devEui, readTime: formatTime(a.lastUplink, platform.offset), date: period, consumption: platform.consumption(a, period).toFixed(4) };
    });
    return { errmsg: 'successmessage', data: data.length === 1 ? data[0] : data };
  };
}

export const queryAllDailyConsumption = usage('day');
export const queryAllMonthlyConsumption = usage('month');

export const readValveStatus: Handler = ({ platform, p }) => ({ errmsg: 'success message', data: platform.mustEui(p.devEui()!).valveState });
