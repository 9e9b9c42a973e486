/**
 * The EMS's own database (users, sessions, folders, meters, accounting objects, tariffs, license,
 * events): one SQLite file beside the reading store, versioned by numbered migrations that run once,
 * in order, each in a transaction. Readings never live here.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export type EmsDatabase = Database.Database;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Append new migrations at the end; never edit one that has shipped. */
export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'users and sessions',
    sql: `
      CREATE TABLE users (
        id            TEXT PRIMARY KEY,
        login         TEXT NOT NULL UNIQUE COLLATE NOCASE,
        name          TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        role          TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
        active        INTEGER NOT NULL DEFAULT 1,
        last_active   INTEGER,
        open_page     TEXT,
        open_folders  TEXT NOT NULL DEFAULT '[]',
        open_factory  TEXT,
        failed_logins INTEGER NOT NULL DEFAULT 0,
        locked_until  INTEGER,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
      );
      CREATE TABLE sessions (
        id                 TEXT PRIMARY KEY,
        user_id            TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        access_hash        TEXT NOT NULL UNIQUE,
        access_expires     INTEGER NOT NULL,
        refresh_hash       TEXT NOT NULL UNIQUE,
        refresh_expires    INTEGER NOT NULL,
        created_at         INTEGER NOT NULL,
        ended_at           INTEGER
      );
      CREATE INDEX sessions_user ON sessions(user_id);
    `,
  },
  {
    version: 2,
    name: 'folders and meters',
    sql: `
      CREATE TABLE folders (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL,
        folder_type TEXT NOT NULL,
        parent_id   TEXT REFERENCES folders(id)
      );
      CREATE INDEX folders_parent ON folders(parent_id);
      CREATE TABLE meters (
        id         TEXT PRIMARY KEY,
        folder_id  TEXT NOT NULL REFERENCES folders(id),
        definition TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX meters_folder ON meters(folder_id);
    `,
  },
  {
    version: 3,
    name: 'event log',
    sql: `
      CREATE TABLE events (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        time       INTEGER NOT NULL,
        meter_id   TEXT,
        meter_name TEXT,
        event      TEXT NOT NULL,
        value      TEXT,
        kind       TEXT NOT NULL,
        level      TEXT NOT NULL CHECK (level IN ('info', 'warning', 'error')),
        source     TEXT
      );
      CREATE INDEX events_time ON events(time);
    `,
  },
  {
    version: 4,
    name: 'license',
    sql: `
      CREATE TABLE license (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        text        TEXT NOT NULL,
        uploaded_at INTEGER NOT NULL,
        uploaded_by TEXT
      );
    `,
  },
  {
    version: 5,
    name: 'tariffs, cost centers and accounting objects',
    sql: `
      CREATE TABLE tariffs (
        id         TEXT PRIMARY KEY,
        name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
        body       TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE cost_centers (
        id         TEXT PRIMARY KEY,
        name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
        body       TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE accounting_objects (
        id         TEXT PRIMARY KEY,
        model      TEXT NOT NULL CHECK (model IN ('electricity', 'calculation')),
        type       TEXT NOT NULL,
        name       TEXT NOT NULL,
        meter_id   TEXT REFERENCES meters(id) ON DELETE SET NULL,
        tariff_id  TEXT REFERENCES tariffs(id),
        parent_id  TEXT REFERENCES accounting_objects(id),
        body       TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX accounting_objects_parent ON accounting_objects(parent_id);
      CREATE INDEX accounting_objects_meter ON accounting_objects(meter_id);
      CREATE INDEX accounting_objects_tariff ON accounting_objects(tariff_id);
    `,
  },
  {
    version: 6,
    name: 'raw poll-server responses',
    sql: `
      CREATE TABLE raw_responses (
        id       INTEGER PRIMARY KEY AUTOINCREMENT,
        meter_id TEXT NOT NULL,
        date     INTEGER NOT NULL,
        data     TEXT NOT NULL
      );
      CREATE INDEX raw_responses_meter_date ON raw_responses(meter_id, date);
    `,
  },
  {
    version: 7,
    name: 'login throttling, login nonces, must_change_password',
    sql: `
      ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
      UPDATE users SET failed_logins = 0, locked_until = NULL;
      CREATE TABLE login_throttle (
        key        TEXT PRIMARY KEY,
        failures   INTEGER NOT NULL DEFAULT 0,
        wait_until INTEGER,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX login_throttle_updated ON login_throttle(updated_at);
      CREATE TABLE login_nonces (
        hash       TEXT PRIMARY KEY,
        id         TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires    INTEGER NOT NULL
      );
      CREATE INDEX login_nonces_expires ON login_nonces(expires);
      CREATE INDEX sessions_user_created ON sessions(user_id, created_at);
    `,
  },
  {
    version: 8,
    name: 'API keys',
    sql: `
      CREATE TABLE api_keys (
        id             TEXT PRIMARY KEY,
        name           TEXT NOT NULL UNIQUE COLLATE NOCASE,
        key_hash       TEXT NOT NULL UNIQUE,
        role           TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
        open_folders   TEXT NOT NULL DEFAULT '[]',
        expires_at     INTEGER,
        created_by     TEXT,
        created_at     INTEGER NOT NULL,
        last_used_at   INTEGER,
        last_used_from TEXT,
        revoked_at     INTEGER,
        revoked_by     TEXT
      );
    `,
  },
  {
    version: 9,
    name: 'retired meter ids',
    // Ids of meters deleted before this table existed are recovered from their "meter deleted" events.
    sql: `
      CREATE TABLE retired_meter_ids (
        id         TEXT PRIMARY KEY,
        retired_at INTEGER NOT NULL,
        name       TEXT
      );
      INSERT OR IGNORE INTO retired_meter_ids (id, retired_at, name)
        SELECT meter_id, MAX(time), meter_name FROM events
        WHERE kind = 'config' AND event = 'meter deleted' AND meter_id IS NOT NULL AND meter_id NOT IN (SELECT id FROM meters)
        GROUP BY meter_id;
      CREATE INDEX events_meter_time ON events(meter_id, time);
      CREATE INDEX raw_responses_date ON raw_responses(date);
    `,
  },
  {
    version: 10,
    name: 'alarm rules and alarms',
    // meter_id '' = an alarm about the EMS itself (license). No foreign keys: alarms outlive their rule and meter as history.
    sql: `
      CREATE TABLE alarm_rules (
        id         TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        body       TEXT NOT NULL,
        created_by TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE alarms (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        rule_id     TEXT NOT NULL,
        rule_name   TEXT NOT NULL,
        meter_id    TEXT NOT NULL DEFAULT '',
        meter_name  TEXT,
        folder_id   TEXT,
        state       TEXT NOT NULL CHECK (state IN ('raised', 'acknowledged', 'cleared')),
        severity    TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
        raised_at   INTEGER NOT NULL,
        acked_at    INTEGER,
        acked_by    TEXT,
        ack_note    TEXT,
        cleared_at  INTEGER,
        value       REAL,
        limit_value REAL,
        unit        TEXT NOT NULL DEFAULT '',
        message     TEXT NOT NULL,
        raise_count INTEGER NOT NULL DEFAULT 1,
        last_change INTEGER NOT NULL
      );
      CREATE INDEX alarms_rule_meter ON alarms(rule_id, meter_id, state);
      CREATE INDEX alarms_state ON alarms(state);
      CREATE INDEX alarms_meter ON alarms(meter_id);
      CREATE INDEX alarms_folder ON alarms(folder_id);
    `,
  },
  {
    version: 11,
    name: 'notification subscriptions and dashboard inbox',
    sql: `
      CREATE TABLE notify_subscriptions (
        user_id    TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        body       TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE notify_inbox (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        time    INTEGER NOT NULL,
        digest  INTEGER NOT NULL,
        body    TEXT NOT NULL
      );
      CREATE INDEX notify_inbox_user ON notify_inbox(user_id, id);
    `,
  },
  {
    version: 12,
    name: 'alarm clearing value',
    // value keeps the value that raised the alarm; cleared_value is the value that cleared it (null: cleared by a rule change).
    sql: 'ALTER TABLE alarms ADD COLUMN cleared_value REAL;',
  },
  {
    version: 13,
    name: 'reading imports',
    // One row per committed file import; import_changes keeps every reading it wrote with the value it
    // replaced (prev_value null: the import added the reading), so an undo restores exactly that.
    sql: `
      CREATE TABLE imports (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at      INTEGER NOT NULL,
        created_by      TEXT NOT NULL,
        file_name       TEXT,
        format          TEXT NOT NULL,
        file_sha256     TEXT NOT NULL,
        readings_sha256 TEXT NOT NULL,
        time_zone       TEXT NOT NULL,
        rows            INTEGER NOT NULL,
        added           INTEGER NOT NULL,
        replaced        INTEGER NOT NULL,
        unchanged       INTEGER NOT NULL,
        meters          TEXT NOT NULL,
        undone_at       INTEGER,
        undone_by       TEXT
      );
      CREATE INDEX imports_file ON imports(file_sha256);
      CREATE INDEX imports_readings ON imports(readings_sha256);
      CREATE TABLE import_changes (
        import_id    INTEGER NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
        meter        TEXT NOT NULL,
        obis         TEXT NOT NULL,
        time         INTEGER NOT NULL,
        value        REAL NOT NULL,
        unit         TEXT NOT NULL,
        prev_value   REAL,
        prev_unit    TEXT,
        prev_quality INTEGER,
        PRIMARY KEY (import_id, meter, obis, time)
      ) WITHOUT ROWID;
      CREATE INDEX import_changes_key ON import_changes(meter, obis, time);
    `,
  },
  {
    version: 14,
    name: 'spaces and energy categories',
    // A folder is a space: its floor area (m2, null = unknown) and time zone (IANA, null = the EMS zone).
    // energy_categories.body is the category as JSON (unit, OBIS media, factor periods); see energy-categories.ts.
    sql: `
      ALTER TABLE folders ADD COLUMN area_m2 REAL;
      ALTER TABLE folders ADD COLUMN time_zone TEXT;
      CREATE TABLE energy_categories (
        id         TEXT PRIMARY KEY,
        body       TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
    `,
  },
];

/** Opens (creating) the EMS database at `file` (":memory:" for tests) and brings its schema up to date. */
export function openEmsDb(file: string, migrations: Migration[] = MIGRATIONS): EmsDatabase {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  if (file !== ':memory:') db.pragma('journal_mode = WAL');
  migrate(db, migrations);
  return db;
}

/**
 * Runs, in version order, every migration the database has not applied yet; returns the versions applied. A
 * version missing below the newest applied one (two lines of work merged: 13 landing after 14 ran) runs too, so
 * no table is ever skipped.
 */
export function migrate(db: EmsDatabase, migrations: Migration[] = MIGRATIONS): number[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const done = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
  const current = Math.max(0, ...done);
  const applied: number[] = [];
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].version === sorted[i - 1].version) throw new Error(`migration version ${sorted[i].version} is used twice`);
  }
  const latest = sorted.length ? sorted[sorted.length - 1].version : 0;
  if (current > latest) throw new Error(`the EMS database is at schema version ${current}, newer than this package knows (${latest}); upgrade the package`);
  for (const m of sorted) {
    if (done.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
    })();
    applied.push(m.version);
  }
  return applied;
}

export function schemaVersion(db: EmsDatabase): number {
  return (db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0;
}
