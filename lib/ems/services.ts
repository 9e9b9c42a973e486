/**
 * The EMS's services over one EMS database, wired together: users and auth, the poll-server
 * registry (asking the license before each new meter, logging every change), the event log and the
 * license. Node-RED's ems-system config node owns one of these; tests open one on ":memory:".
 */
import { EventEmitter } from 'node:events';
import type { EmsDatabase } from './db';
import { openEmsDb } from './db';
import { ApiError } from './envelope';
import { ApiKeyService } from './api-keys';
import { AuditTrail } from './audit';
import { AuthService, ensureAdmin, type AuthOptions } from './auth';
import { EventLog } from './event-log';
import { checkMeterAllowed, defaultPublicKey, licenseStatus, verifyLicense, type LicenseStatus, type LicenseTerms } from './license';
import { Registry } from './registry';
import { UserService } from './users';
import { TariffService, type ConfigChange } from './tariffs';
import { CostCenterService } from './cost-centers';
import { ObjectService } from './objects';
import { EnergyCategoryService } from './energy-categories';
import { retentionFromEnv, startMaintenance, type Retention, type RetentionEnv } from './maintenance';
import { credentialSecretFromEnv } from './secret-box';
import { AlarmService, licenseEnd, TICK_INTERVAL_MS } from './alarms/service';
import { NotificationService, type NotificationServiceOptions } from './notify/service';

export class LicenseService {
  constructor(private readonly db: EmsDatabase, private readonly publicKey: string, private readonly now: () => number = Date.now) {}

  /** The last text verified and its terms: a signature check per meter created made 10,000 meters take seconds. */
  private verified: { text: string; terms: LicenseTerms | null } | null = null;

  /** The stored license's terms (verified when its text changes), or null without one. */
  current(): LicenseTerms | null {
    const row = this.db.prepare('SELECT text FROM license WHERE id = 1').get() as { text: string } | undefined;
    if (!row) return null;
    if (this.verified?.text !== row.text) {
      let terms: LicenseTerms | null;
      try {
        terms = verifyLicense(row.text, this.publicKey);
      } catch {
        terms = null; // a stored license the shipped key no longer accepts counts as none
      }
      this.verified = { text: row.text, terms };
    }
    return this.verified.terms;
  }

  status(): LicenseStatus {
    return licenseStatus(this.current(), this.now());
  }

  /** Verifies and stores a license file's text, replacing the previous one. */
  upload(text: unknown, by?: string): LicenseStatus {
    if (typeof text !== 'string' || text.trim() === '') throw new ApiError(400, 'license must be the text of a license file');
    verifyLicense(text, this.publicKey);
    this.db.prepare('INSERT INTO license (id, text, uploaded_at, uploaded_by) VALUES (1, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET text = excluded.text, uploaded_at = excluded.uploaded_at, uploaded_by = excluded.uploaded_by')
      .run(text, this.now(), by ?? null);
    return this.status();
  }
}

export interface EmsServices {
  db: EmsDatabase;
  users: UserService;
  auth: AuthService;
  /** API keys for programs (hashed, with role, folder scope, expiry). */
  apiKeys: ApiKeyService;
  /** The API's audit trail in the event log. */
  audit: AuditTrail;
  registry: Registry;
  events: EventLog;
  license: LicenseService;
  /** Stored tariffs (lib/tariff JSON). */
  tariffs: TariffService;
  /** Cost centers: tariffs per energy category and their meters. */
  costCenters: CostCenterService;
  /** Accounting objects (electricity/calculation trees) binding meters to tariffs. */
  objects: ObjectService;
  /** Energy categories with their units and kgce/kgCO2e factor periods. */
  energyCategories: EnergyCategoryService;
  /**
   * Alarm rules and alarms (lib/ems/alarms): feed it onReadings after a store write, onPollResult after a
   * poll; it ticks on its own timer. Emits 'transition' with an AlarmNotification.
   */
  alarms: AlarmService;
  /** Alarm transitions to the feeds (MQTT, webhook) and to subscribers (email, dashboard inbox). */
  notifications: NotificationService;
  /** Emits 'change' ({ kind, action, id, name }) after every folder or meter change (the scheduler follows it); a bulk creation emits one with `ids`, every meter created. */
  changes: EventEmitter;
  /** Set while the admin still has the demo password. */
  adminWarning: string | null;
  close(): void;
}

const PRUNE_EVERY_MS = 10 * 60_000;

export interface ServiceOptions {
  file: string;
  /**
   * The process environment (the ems-system node passes process.env): the admin account, and the
   * defaults of credentialSecret (EMS_CREDENTIAL_SECRET), pollNetworks (EMS_POLL_NETWORKS) and
   * retention (EMS_EVENT_RETENTION_DAYS, EMS_RAW_RESPONSE_RETENTION_DAYS, EMS_RAW_RESPONSES_PER_METER).
   */
  env?: { EMS_ADMIN_USER?: string; EMS_ADMIN_PASSWORD?: string; EMS_CREDENTIAL_SECRET?: string; EMS_POLL_NETWORKS?: string; EMS_ALARM_TICK_SECONDS?: string } & RetentionEnv;
  /** Seals meter passwords in the database; default EMS_CREDENTIAL_SECRET, else the documented demo secret. */
  credentialSecret?: string;
  /** Comma-separated CIDRs meters may be polled in; default EMS_POLL_NETWORKS, else loopback, private and link-local. */
  pollNetworks?: string;
  /** How long events and raw responses are kept; default from env. */
  retention?: Retention;
  auth?: AuthOptions;
  licensePublicKey?: string;
  /** The EMS time zone (alarm active hours and windows); default UTC. */
  timeZone?: string;
  /** How often alarms are evaluated on the clock (ms); 0 = no timer (tests call alarms.tick()). Default EMS_ALARM_TICK_SECONDS (1..3600), else 30 s. */
  alarmTickMs?: number;
  /** Notification feeds (built by the ems-system node from its settings), dashboard link, dispatcher timing. */
  notifications?: Omit<NotificationServiceOptions, 'timeZone' | 'now'>;
  now?: () => number;
}

export async function openEmsServices(opts: ServiceOptions): Promise<EmsServices> {
  const now = opts.now ?? Date.now;
  const db = openEmsDb(opts.file);
  try {
    const users = new UserService(db, now);
    const events = new EventLog(db, now);
    const changes = new EventEmitter();
    const license = new LicenseService(db, opts.licensePublicKey ?? defaultPublicKey(), now);
    const logCategory: ConfigChange = (c) => events.add({ kind: 'config', event: `${c.kind} ${c.action}d: ${c.name}`, value: c.id, source: c.by ?? null });
    const energyCategories = new EnergyCategoryService(db, logCategory, now);
    const registry = new Registry(db, {
      beforeCreateMeter: (countAfter) => checkMeterAllowed(license.current(), now(), countAfter),
      onChange: (c) => {
        events.add({ kind: 'config', event: `${c.kind} ${c.action}d`, meter_id: c.kind === 'meter' ? c.id : null, meter_name: c.name });
        changes.emit('change', c);
      },
      // One change for a bulk creation (with every id), so followers reload once, not once per meter.
      onMetersCreated: (meters) => {
        db.transaction(() => { for (const m of meters) events.add({ kind: 'config', event: 'meter created', meter_id: m.id, meter_name: m.name }); })();
        if (meters.length) changes.emit('change', { kind: 'meter', action: 'create', id: meters[0].id, name: meters.length === 1 ? meters[0].name : `${meters.length} meters`, ids: meters.map((m) => m.id) });
      },
      onCredentialError: (meterId, message) => events.add({ kind: 'system', level: 'warning', event: message, meter_id: meterId }),
    }, now, {
      credentialSecret: opts.credentialSecret ?? credentialSecretFromEnv(opts.env),
      pollNetworks: opts.pollNetworks ?? opts.env?.EMS_POLL_NETWORKS,
      energyCategories: () => energyCategories.ids(),
    });
    const auth = new AuthService(db, users, { ...opts.auth, events }, now);
    const apiKeys = new ApiKeyService(db, now);
    const audit = new AuditTrail(events, now);
    const logConfig: ConfigChange = (c) => events.add({ kind: 'config', event: `${c.kind} ${c.action}d: ${c.name}`, value: c.id, source: c.by ?? null });
    const tariffs = new TariffService(db, logConfig, now);
    const costCenters = new CostCenterService(db, tariffs, registry, logConfig, now);
    const objects = new ObjectService(db, tariffs, registry, logConfig, now);
    const alarms = new AlarmService(db, registry, events, { now, timeZone: opts.timeZone, licenseExpiresAt: () => licenseEnd(license.current()?.expiration_date) });
    changes.on('change', () => alarms.invalidate());
    const notifications = new NotificationService(db, users, registry, events, alarms, { channels: {}, ...opts.notifications, timeZone: opts.timeZone ?? 'UTC', now });
    const { created, warning } = await ensureAdmin(users, opts.env ?? {});
    if (created) events.add({ kind: 'system', event: `admin account "${created.login}" created on first start` });
    // Ended sessions, forgotten login counters and expired login nonces go every 10 minutes.
    auth.prune();
    const pruner = setInterval(() => {
      try {
        auth.prune();
      } catch {
        // a busy or closed database: the next round tries again
      }
    }, PRUNE_EVERY_MS);
    pruner.unref();
    const stopMaintenance = startMaintenance(db, events, opts.retention ?? retentionFromEnv(opts.env), now, (err) => {
      try { events.add({ kind: 'system', level: 'error', event: `pruning old events and raw responses failed: ${err.message}` }); } catch { /* closed */ }
    });
    const tickMs = opts.alarmTickMs ?? alarmTickFromEnv(opts.env?.EMS_ALARM_TICK_SECONDS);
    if (tickMs > 0) alarms.start(tickMs);
    const close = () => {
      alarms.stop();
      void notifications.close(); // what is not sent yet is logged before the database closes
      stopMaintenance();
      clearInterval(pruner);
      db.close();
    };
    return { db, users, auth, apiKeys, audit, registry, events, license, tariffs, costCenters, objects, energyCategories, alarms, notifications, changes, adminWarning: warning, close };
  } catch (err) {
    db.close();
    throw err;
  }
}

/** EMS_ALARM_TICK_SECONDS as ms (whole seconds 1..3600), else the 30 s default; anything else is refused naming the value. */
export function alarmTickFromEnv(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return TICK_INTERVAL_MS;
  if (!/^\d{1,4}$/.test(value.trim()) || Number(value) < 1 || Number(value) > 3600) throw new RangeError(`EMS_ALARM_TICK_SECONDS must be whole seconds from 1 to 3600, got ${JSON.stringify(value)}`);
  return Number(value) * 1000;
}
