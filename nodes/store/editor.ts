import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties {
  backend: string;
  path: string;
  timeZone: string;
  version: string;
  url: string;
  database: string;
  retentionPolicy: string;
  org: string;
  bucket: string;
  batchSize: string;
  flushInterval: string;
  spoolDir: string;
}

interface Creds {
  username: string;
  password: string;
  token: string;
}

/** `${VAR}` (set from the environment at deploy) is accepted wherever a value is validated. */
const envRef = (v: string): boolean => /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test((v ?? '').trim());

function validZone(v: string): boolean {
  if (!v || envRef(v)) return true; // empty = the Node-RED server's zone
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: v });
    return true;
  } catch {
    return false;
  }
}

function optionalInt(min: number) {
  return (v: string): boolean => {
    const s = (v ?? '').trim();
    return s === '' || envRef(s) || (/^\d+$/.test(s) && Number(s) >= min);
  };
}

function backendOf(node: { backend?: string }): string {
  return node.backend === 'influxdb' ? 'influxdb' : 'sqlite';
}

RED.nodes.registerType<Props, Creds>('ems-store', {
  category: 'config',
  defaults: {
    name: { value: '' },
    backend: { value: 'sqlite', required: true, validate: (v: string) => v === 'sqlite' || v === 'influxdb' || envRef(v) },
    path: { value: '', validate: (v: string) => !/^\s+|\s+$/.test(v ?? '') },
    timeZone: { value: '', validate: validZone },
    version: { value: '1', validate: (v: string) => v === '1' || v === '2' || envRef(v) || (v ?? '') === '' },
    url: {
      value: 'http://localhost:8086',
      validate(this: { backend?: string }, v: string) {
        return this.backend !== 'influxdb' || envRef(v) || /^https?:\/\/[^\s/]+/.test((v ?? '').trim());
      },
    },
    database: { value: 'ems' },
    retentionPolicy: { value: '' },
    org: {
      value: '',
      validate(this: { backend?: string; version?: string }, v: string) {
        return this.backend !== 'influxdb' || this.version !== '2' || (v ?? '').trim() !== '';
      },
    },
    bucket: {
      value: '',
      validate(this: { backend?: string; version?: string }, v: string) {
        return this.backend !== 'influxdb' || this.version !== '2' || (v ?? '').trim() !== '';
      },
    },
    batchSize: { value: '5000', validate: optionalInt(1) },
    flushInterval: { value: '1000', validate: optionalInt(0) },
    spoolDir: { value: '' },
  },
  credentials: {
    username: { type: 'text' },
    password: { type: 'password' },
    token: { type: 'password' },
  },
  label() {
    if (this.name) return this.name;
    if (backendOf(this) === 'influxdb') {
      const where = this.version === '2' ? this.bucket : this.database || 'ems';
      return `influxdb ${where} ${this.url || ''}`.trim();
    }
    return `sqlite ${this.path || 'ems-readings.sqlite'}`;
  },
  oneditprepare() {
    const zones = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
    const list = $('<datalist id="ems-store-zones">');
    for (const z of ['UTC', ...zones]) $('<option>').attr('value', z).appendTo(list);
    list.insertAfter('#node-config-input-timeZone');
    $('#node-config-input-timeZone').attr('list', 'ems-store-zones')
      .attr('placeholder', Intl.DateTimeFormat().resolvedOptions().timeZone);

    // The shipped EMS sets backend and version from the environment (${EMS_STORE}): keep such values selectable.
    for (const [id, v] of [['backend', this.backend], ['version', this.version]] as const) {
      if (envRef(v)) $('<option>').attr('value', v).text(v).appendTo(`#node-config-input-${id}`);
      $(`#node-config-input-${id}`).val(v || (id === 'backend' ? 'sqlite' : '1'));
    }
    const show = (): void => {
      const backend = $('#node-config-input-backend').val();
      const version = $('#node-config-input-version').val();
      $('.ems-store-sqlite').toggle(backend === 'sqlite');
      $('.ems-store-influxdb').toggle(backend === 'influxdb');
      $('.ems-store-v1').toggle(backend === 'influxdb' && version !== '2');
      $('.ems-store-v2').toggle(backend === 'influxdb' && version === '2');
    };
    $('#node-config-input-backend, #node-config-input-version').on('change', show);
    show();
  },
});
