import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties {
  gateway: string; operation: string; serial: string; meterId: string; channel: string; from: string; to: string;
  devices: string; obis: string; method: string; path: string; body: string; waitMs: string;
}

/** Which rows each operation uses. */
const ROWS: Record<string, string[]> = {
  values: ['serial', 'meterId'], tariffs: ['serial', 'meterId'], loadprofile: ['serial', 'meterId', 'channel', 'from', 'to'],
  events: ['serial', 'to'], meters: [], scan: ['body', 'waitMs'], add: ['serial', 'body'], settime: [],
  execute: ['devices', 'obis'], request: ['method', 'path', 'body'],
};

const jsonOrEmpty = (v: string) => {
  if (!v || !v.trim()) return true;
  try { JSON.parse(v); return true; } catch { return false; }
};

RED.nodes.registerType<Props>('ems-g13', {
  category: 'energy',
  color: '#A6BBCF',
  icon: 'font-awesome/fa-server',
  paletteLabel: 'G13 gateway',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    gateway: { value: '', type: 'ems-g13-gateway', required: false },
    operation: { value: 'values', required: true },
    serial: { value: '', validate: (v: string) => v.length <= 17 },
    meterId: { value: '' },
    channel: { value: '1', validate: (v: string) => v === '' || /^[1-8]$/.test(v) },
    from: { value: '' },
    to: { value: '' },
    devices: { value: '', validate: (v: string) => v.split(',').filter((s) => s.trim()).length <= 5 },
    obis: { value: '1-0:32.7.0' },
    method: { value: 'GET' },
    path: { value: '/about', validate: (v: string) => v === '' || (v.startsWith('/') && !v.includes('?')) },
    body: { value: '', validate: jsonOrEmpty },
    waitMs: { value: '60000', validate: (v: string) => v === '' || /^\d+$/.test(v) },
  },
  label() {
    return this.name || `G13 ${this.operation}${this.serial ? ` ${this.serial}` : ''}`;
  },
  labelStyle() { return this.name ? 'node_label_italic' : ''; },
  oneditprepare() {
    const show = () => {
      const rows = ROWS[String($('#node-input-operation').val())] ?? [];
      $('.ems-g13-row').hide();
      for (const r of rows) $(`.ems-g13-${r}`).show();
    };
    $('#node-input-operation').on('change', show);
    $('#node-input-body').typedInput({ types: ['json'] });
    show();
  },
});
