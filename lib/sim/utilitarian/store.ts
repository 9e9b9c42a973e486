/**
 * The simulator's in-memory database: one Map per collection, users with tokens and passwords,
 * derived output fields (host, members, *_info, nested meter) and the readings ingestion rules
 * (allowed series, staged readings promoted when their device is created, retention purges).
 */
import { randomUUID } from 'node:crypto';
import { definition, DATETIME_RE } from '../../specs/utilitarian/spec';
import { RESOURCES } from './resources';

export type Row = Record<string, any>;

export interface SimUser {
  id: string;
  username: string;
  password: string;
  is_staff: boolean;
  /** API key for Token auth (staff). */
  token?: string;
}

/** DRF's UTC date-time output: "2020-01-15T06:00:00Z", microseconds when not zero. */
export function drfTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? iso.replace('.000Z', 'Z') : iso.replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Parses an ISO 8601 date-time; a naive one is UTC. NaN when not a date-time. */
export function parseTime(text: string): number {
  const t = text.trim().replace(' ', 'T');
  if (!DATETIME_RE.test(t)) return NaN;
  return Date.parse(/(Z|[+-]\d{2}:?\d{2})$/.test(t) ? t : `${t}Z`);
}

/** Canonical decimal string: accepts numbers and strings, keeps the digits given. */
export function decimalString(v: unknown): string {
  const s = String(v).trim().replace(/^\+/, '');
  return s.startsWith('.') ? `0${s}` : s.startsWith('-.') ? `-0${s.slice(1)}` : s;
}

export class SimStore {
  readonly tables = new Map<string, Map<string, Row>>();
  readonly users = new Map<string, SimUser>();
  private seq = new Map<string, number>();

  constructor(private readonly now: () => number) {
    for (const r of RESOURCES) this.tables.set(r.collection, new Map());
  }

  table(collection: string): Map<string, Row> {
    const t = this.tables.get(collection);
    if (!t) throw new Error(`no table ${collection}`);
    return t;
  }

  newId(collection: string, idType: 'uuid' | 'integer'): string | number {
    if (idType === 'uuid') return randomUUID();
    const n = (this.seq.get(collection) ?? 0) + 1;
    this.seq.set(collection, n);
    return n;
  }

  insert(collection: string, idType: 'uuid' | 'integer', fields: Row): Row {
    const at = drfTime(this.now());
    const row: Row = { id: this.newId(collection, idType), ...fields, created_at: at, updated_at: at };
    this.table(collection).set(String(row.id), row);
    if (collection === '/metering/meter-devices') this.promoteStaged(row);
    return row;
  }

  userOrgs(userId: string): string[] {
    return [...this.table('/organizations/memberships').values()].filter((m) => m.user === userId).map((m) => m.organization);
  }

  /** Organization a row belongs to (undefined: none, visible to all). */
  orgOf(collection: string, row: Row): string | undefined | null {
    if (collection === '/organizations') return row.id;
    if (collection === '/metering/meter-security-keys') return this.table('/metering/meter-devices').get(row.meter)?.organization;
    if (collection === '/metering/staged-meter-readings') return undefined;
    return row.organization;
  }

  /** Series a device may store (its type's config); undefined = no type/config, anything goes. */
  allowedSeries(deviceId: string): string[] | undefined {
    const dev = this.table('/metering/meter-devices').get(deviceId);
    const type = dev?.type ? this.table('/metering/meter-device-types').get(dev.type) : undefined;
    const config = type?.config ? this.table('/metering/meter-device-configs').get(type.config) : undefined;
    return config ? config.series as string[] : undefined;
  }

  findByName(collection: string, name: string, org?: string | null): Row | undefined {
    for (const r of this.table(collection).values()) if (r.name === name && (org === undefined || r.organization === org)) return r;
    return undefined;
  }

  /** Stores one name-addressed reading: a MeterReading, a StagedMeterReading, or a dropped value with an event. */
  ingest(r: { meter_device_name: string; series_name: string; timestamp: string; value: unknown }): 'stored' | 'staged' | 'dropped' {
    const dev = this.findByName('/metering/meter-devices', r.meter_device_name);
    const timestamp = drfTime(parseTime(r.timestamp));
    if (!dev) {
      this.insert('/metering/staged-meter-readings', 'integer',
        { meter_device_name: r.meter_device_name, series_name: r.series_name, timestamp, value: decimalString(r.value) });
      return 'staged';
    }
    const series = this.findByName('/metering/meter-reading-series', r.series_name, dev.organization);
    const allowed = this.allowedSeries(dev.id);
    if (!series || (allowed && !allowed.includes(series.id))) {
      this.insert('/metering/meter-system-events', 'integer', {
        organization: dev.organization, meter_device: dev.id, timestamp,
        title: 'Reading dropped', content: `series ${JSON.stringify(r.series_name)} is ${series ? 'not allowed for this device' : 'unknown'}; value ${decimalString(r.value)}`,
      });
      return 'dropped';
    }
    this.insert('/metering/meter-readings', 'integer',
      { organization: dev.organization, meter_device: dev.id, series: series.id, timestamp, value: decimalString(r.value) });
    return 'stored';
  }

  /** "Whenever a new meter device is created we will save all staged meter readings as normal meter readings." */
  private promoteStaged(dev: Row): void {
    const staged = this.table('/metering/staged-meter-readings');
    for (const [id, s] of [...staged]) {
      if (s.meter_device_name !== dev.name) continue;
      staged.delete(id);
      this.ingest(s as any);
    }
  }

  /** Removes readings/events older than dataDays and staged rows older than stagedDays. */
  purge(dataDays: number | undefined, stagedDays: number): void {
    const cut = (days: number) => this.now() - days * 86_400_000;
    const drop = (collection: string, before: number) => {
      const t = this.table(collection);
      for (const [id, r] of t) if (Date.parse(collection.includes('staged') ? r.created_at : r.timestamp) < before) t.delete(id);
    };
    drop('/metering/staged-meter-readings', cut(stagedDays));
    if (dataDays !== undefined) {
      drop('/metering/meter-readings', cut(dataDays));
      drop('/metering/meter-system-events', cut(dataDays));
    }
  }

  /** A row as the API shows it: every field of the output definition, defaults filled, derived fields added. */
  render(collection: string, defName: string, row: Row): Row {
    const out: Row = {};
    for (const [name, p] of Object.entries(definition(defName).properties ?? {})) {
      if (name in row && row[name] !== undefined) out[name] = row[name];
      else if (p.readOnly) continue;
      else if (p['x-nullable']) out[name] = null;
      else if (p.type === 'array') out[name] = [];
      else if (p.type === 'boolean') out[name] = name === 'is_active';
      else if (p.type === 'integer') out[name] = /ratio/.test(name) ? 1 : 0;
      else if (p.format === 'decimal') out[name] = '1';
      else if (p.type === 'string' && p.enum) out[name] = name === 'timezone' ? 'UTC' : p.enum[0];
      else if (p.type === 'string') out[name] = '';
    }
    const tbl = (c: string) => this.table(c);
    switch (collection) {
      case '/metering/network-interfaces': {
        delete out.host;
        const host = row.fqdn || row.static_ip_address || (row.sim ? tbl('/metering/sim-cards').get(row.sim)?.ip_address : undefined);
        if (host) out.host = host;
        out.is_blocked = !!row.is_blocked;
        if (row.block_time) out.block_time = row.block_time;
        break;
      }
      case '/metering/meter-devices': {
        const ni = row.network_interface ? tbl('/metering/network-interfaces').get(row.network_interface) : undefined;
        out.network_interface_info = ni ? this.render('/metering/network-interfaces', 'NetworkInterface', ni) : null;
        break;
      }
      case '/metering/meter-device-configs':
        out.series_info = (row.series as string[]).map((id) => tbl('/metering/meter-reading-series').get(id)).filter(Boolean)
          .map((s) => this.render('/metering/meter-reading-series', 'MeterReadingsSeries', s!));
        break;
      case '/metering/amr-task-groups':
        out.tasks_info = ((row.tasks ?? []) as string[]).map((id) => tbl('/metering/amr-tasks').get(id)).filter(Boolean)
          .map((t) => this.render('/metering/amr-tasks', 'AmrTask', t!));
        break;
      case '/organizations':
        out.members = [...new Set([...tbl('/organizations/memberships').values()].filter((m) => m.organization === row.id).map((m) => m.user))];
        break;
      case '/metering/meter-security-keys': {
        delete out.dlms_master_key; // write-only, never returned (digest #7)
        if (defName !== 'MeterSecurityKeyCollectionOut') break;
        const dev = tbl('/metering/meter-devices').get(row.meter);
        const meterProps = definition('MeterSecurityKeyCollectionOut').properties!.meter.properties!;
        out.meter = dev ? Object.fromEntries(Object.keys(meterProps).filter((k) => k in dev).map((k) => [k, dev[k]])) : null;
        if (out.meter) for (const k of Object.keys(meterProps)) if (!(k in out.meter)) out.meter[k] = this.render('/metering/meter-devices', 'MeterDevice', dev!)[k];
        break;
      }
    }
    return out;
  }
}
