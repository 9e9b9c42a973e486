import path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { openPrepaidLedger, type AccountState, type PostResult, type PrepaidLedger, type Triggered, type ValveCommand } from '../../lib/billing/prepaid';
import { Decimal } from '../../lib/money/decimal';
import { priceConsumption } from '../../lib/tariff';
import type { ConsumptionInterval, Tariff } from '../../lib/tariff/types';
import { prepaidEvents } from '../../lib/ems/prepaid-events';
import type { AlarmChange } from '../../lib/billing/prepaid';
import type { SystemConfigNode } from '../system/system';
import type { TariffConfigNode } from '../tariff/tariff';
import { actionOf, configuredAccounts, intervalReference, show, toIntervals, toSettings, toTime } from './requests';

export interface PrepaidDef extends NodeDef {
  /** Id of an ems-tariff config node (optional: consume msgs may carry payload.amount instead). */
  tariff: string;
  /** Ledger file; empty = <userDir>/ems-prepaid/<node id>.db; relative paths are under the user dir. */
  file: string;
  /** Predefined accounts [{id, name, currency, warnBelow, cutOffBelow, initialBalance}]. */
  accounts: unknown;
  /** Optional ems-system: cut-offs, reopenings and alarm changes go to its event log. */
  system?: string;
}

type Msg = NodeMessageInFlow & { payload: unknown };

export default function init(RED: NodeAPI): void {
  function EmsPrepaid(this: Node, def: PrepaidDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const userDir = RED.settings.userDir ?? process.cwd();
    const file = String(def.file ?? '').trim()
      ? path.resolve(userDir, String(def.file).trim())
      : path.join(userDir, 'ems-prepaid', `${node.id.replace(/[^\w.-]/g, '_')}.db`);
    let ledger: PrepaidLedger | undefined;
    let openError: string | undefined;
    try {
      ledger = openPrepaidLedger(file);
      node.status({});
    } catch (err) {
      openError = (err as Error).message;
      node.status({ fill: 'red', shape: 'ring', text: 'ems-prepaid.status.no-ledger' });
      node.error(openError);
    }

    // Predefined accounts: created, or their thresholds updated; a valve command that causes goes out once started.
    const startup: ValveCommand[] = [];
    if (ledger) {
      let defs: ReturnType<typeof configuredAccounts> = [];
      try {
        defs = configuredAccounts(def.accounts);
      } catch (err) {
        node.error((err as Error).message);
      }
      defs.forEach((a, i) => {
        try {
          const r = ledger!.ensureAccount(toSettings(a as unknown as Record<string, unknown>, 'id'));
          if (r.valve) startup.push(r.valve);
        } catch (err) {
          node.status({ fill: 'red', shape: 'ring', text: 'ems-prepaid.status.bad-account' });
          node.error(`accounts[${i}] (${show(a?.id)}): ${(err as Error).message}`);
        }
      });
    }
    const system = def.system ? RED.nodes.getNode(def.system) as SystemConfigNode | null : null;
    /** Logs valve commands and alarm changes in the EMS event log, when an EMS is configured. */
    function logEvents(valves: ValveCommand[], alarms: AlarmChange[]): void {
      if (!system || (!valves.length && !alarms.length)) return;
      system.ready().then((s) => {
        const meterName = (account: string): string | null => s.registry.meters().find((m) => m._id === account)?.definition.name ?? null;
        for (const e of prepaidEvents(valves, alarms, node.id, meterName)) s.events.add(e);
      }).catch((err: Error) => node.warn(`the EMS event log is not available: ${err.message}`));
    }

    const timer = startup.length ? setTimeout(() => { node.send([null, startup.map(valveMsg)]); logEvents(startup, []); }, 0) : undefined;

    function valveMsg(v: ValveCommand): NodeMessage {
      return { topic: v.account, payload: { account: v.account, valve: v.valve, balance: v.balance, threshold: v.threshold, time: v.time } };
    }

    function tariff(): Tariff | undefined {
      if (!def.tariff) return undefined;
      const config = RED.nodes.getNode(def.tariff) as unknown as TariffConfigNode | null;
      if (!config) throw new Error(`tariff: the ems-tariff configuration node ${show(def.tariff)} was not found`);
      if (!config.tariff) throw new Error(config.problem ?? 'tariff: the ems-tariff configuration node has no valid tariff');
      return config.tariff;
    }

    function showState(s: AccountState): void {
      const fill = s.alarm === 'ok' ? 'green' : s.alarm === 'low' ? 'yellow' : 'red';
      node.status({ fill, shape: 'dot', text: `${s.account}: ${s.balance} ${s.currency}${s.valve === 'closed' ? ' (closed)' : ''}` });
    }

    /** Charges consumption: payload.amount as given, or the intervals priced at the tariff (one entry per interval unless payload.reference is given). */
    function consume(l: PrepaidLedger, account: string, p: Record<string, unknown>): { results: PostResult[]; warnings: string[] } {
      const currency = l.account(account).currency;
      const time = p.time === undefined ? undefined : toTime(p.time, 'payload.time');
      if (p.amount !== undefined) {
        if (p.reference === undefined) throw new Error('payload.reference is required with payload.amount (it keeps a replayed msg from charging twice), got undefined');
        const r = l.consume(account, { reference: p.reference as string, amount: p.amount as string, time, detail: p.detail,
          ...(p.quantity !== undefined ? { quantity: p.quantity as string } : {}), ...(p.unit !== undefined ? { unit: p.unit as string } : {}) });
        return { results: [r], warnings: [] };
      }
      const intervals = toIntervals(p);
      const t = tariff();
      if (!t) throw new Error('tariff: consumption intervals need a tariff (pick an ems-tariff in the node) or payload.amount');
      if (t.currency !== currency) throw new Error(`tariff currency ${t.currency} differs from the currency ${currency} of account ${show(account)}`);
      const groups: { reference: string; intervals: ConsumptionInterval[] }[] = p.reference !== undefined
        ? [{ reference: p.reference as string, intervals }]
        : intervals.map((i) => ({ reference: intervalReference(i, account), intervals: [i] }));
      const warnings: string[] = [];
      const charges = groups.map((g) => {
        const priced = priceConsumption(t, g.intervals);
        warnings.push(...priced.warnings);
        const units = new Set(g.intervals.map((i) => i.unit));
        const quantity = units.size === 1 ? Decimal.sum(g.intervals.map((i) => Decimal.from(i.quantity))).toString() : undefined;
        const last = g.intervals[g.intervals.length - 1];
        const detail = { tariff: priced.tariff, from: g.intervals[0].start, to: last.end, ...(last.meter ? { meter: last.meter } : {}), ...(last.obis ? { obis: last.obis } : {}) };
        return { reference: g.reference, amount: priced.total, time: time ?? last.end, detail, ...(quantity !== undefined ? { quantity, unit: last.unit } : {}) };
      });
      const results = l.batch(account, () => charges.map((c) => l.consume(account, c)));
      return { results, warnings };
    }

    node.on('input', (input, send, done) => {
      const msg = input as Msg;
      try {
        if (!ledger) throw new Error(openError ?? 'the prepaid ledger is not open');
        const action = actionOf(msg);
        const p = msg.payload as Record<string, unknown>;
        const account = p.account as string;
        if (typeof account !== 'string' || account.trim() === '') throw new Error(`payload.account must be an account id, got ${show(p.account)}`);
        let out: Record<string, unknown>;
        const triggered: Triggered[] = [];
        if (action === 'create') {
          const blank = p.currency === undefined || p.currency === null || p.currency === '';
          const r = ledger.ensureAccount(toSettings(p, 'account', blank ? tariff()?.currency : undefined));
          triggered.push(r);
          out = { status: r.status, ...(r.entry ? { entry: r.entry } : {}) };
        } else if (action === 'topup') {
          const r = ledger.topUp(account, { reference: p.reference as string, amount: p.amount as string, detail: p.detail,
            ...(p.time !== undefined ? { time: toTime(p.time, 'payload.time') } : {}) });
          triggered.push(r);
          out = { status: r.status, entry: r.entry };
        } else if (action === 'consume') {
          const { results, warnings } = consume(ledger, account, p);
          triggered.push(...results);
          const applied = results.filter((r) => r.status === 'applied');
          const charged = Decimal.sum(applied.map((r) => Decimal.from(r.entry.amount).neg()));
          out = {
            status: applied.length === results.length ? 'applied' : applied.length ? 'partly applied' : 'already applied',
            charged: charged.toString(), entries: results.map((r) => ({ status: r.status, ...r.entry })),
            ...(warnings.length ? { warnings } : {}),
          };
        } else if (action === 'entries') {
          const range: { from?: number; to?: number } = {};
          if (p.from !== undefined) range.from = toTime(p.from, 'payload.from');
          if (p.to !== undefined) range.to = toTime(p.to, 'payload.to');
          out = { entries: ledger.entries(account, range) };
        } else out = {};
        const state = ledger.state(account);
        const valves = triggered.map((t) => t.valve).filter((v): v is ValveCommand => !!v);
        const alarms = triggered.map((t) => t.alarm).filter((a): a is AlarmChange => !!a);
        logEvents(valves, alarms);
        // prepaid_balance_below alarm rules of the EMS (the account named like a meter).
        system?.ready().then((sv) => sv.alarms.onPrepaidBalance(account, Number(state.balance)), () => undefined);
        msg.payload = { action, ...out, ...state, ...(valves.length ? { valveCommand: valves[valves.length - 1].valve } : {}), ...(alarms.length ? { alarmChanges: alarms } : {}) };
        showState(state);
        send([msg, valves.length ? valves.map(valveMsg) : null]);
        done();
      } catch (err) {
        node.status({ fill: 'red', shape: 'ring', text: 'ems-prepaid.status.error' });
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      if (timer) clearTimeout(timer);
      ledger?.close(); // the ledger file is kept even when the node is deleted: it is the money record
      node.status({});
      done();
    });
  }
  RED.nodes.registerType('ems-prepaid', EmsPrepaid);
}
