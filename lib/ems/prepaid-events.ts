/**
 * Prepaid valve commands and alarm changes as EMS event-log entries. An account named like a meter of
 * the EMS is logged against that meter (`meterName` answers its name, or null for no such meter).
 */
import type { AlarmChange, ValveCommand } from '../billing/prepaid';
import type { NewEvent } from './event-log';

export function prepaidEvents(valves: readonly ValveCommand[], alarms: readonly AlarmChange[], source: string | null, meterName: (account: string) => string | null): NewEvent[] {
  const base = (account: string, time: number) => {
    const name = meterName(account);
    return name === null ? { meter_id: null, meter_name: `account ${account}`, source, time } : { meter_id: account, meter_name: name, source, time };
  };
  return [
    ...alarms.map((a): NewEvent => ({
      ...base(a.account, a.time), kind: 'alarm', level: a.alarm === 'ok' ? 'info' : 'warning', value: a.balance,
      event: a.alarm === 'ok' ? `prepaid balance ${a.balance} is back above the thresholds (was ${a.previous})`
        : `prepaid balance ${a.balance} is below the ${a.alarm === 'low' ? 'warning' : 'cut-off'} threshold ${a.threshold}`,
    })),
    ...valves.map((v): NewEvent => ({
      ...base(v.account, v.time), kind: 'prepaid', level: v.valve === 'close' ? 'warning' : 'info', value: v.balance,
      event: v.valve === 'close' ? `prepaid cut-off: valve closed at balance ${v.balance} (cut-off below ${v.threshold})`
        : `prepaid reopened: valve opened at balance ${v.balance}`,
    })),
  ];
}
