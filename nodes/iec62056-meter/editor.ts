import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties {
  meterId: string; host: string; port: string; mode: string; address: string; maxBaud: string;
  timeout: string; timeDifference: string; timeZone: string; system: string;
}

const intIn = (min: number, max: number, optional = false) => (v: unknown) => {
  const s = String(v ?? '').trim();
  if (s === '') return optional;
  const n = Number(s);
  return Number.isInteger(n) && n >= min && n <= max;
};

RED.nodes.registerType<Props, { password: string }>('ems-iec62056-meter', {
  category: 'energy',
  color: '#E2D96E',
  icon: 'font-awesome/fa-eye',
  paletteLabel: 'IEC 62056-21',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    meterId: { value: '' },
    host: { value: '127.0.0.1', required: true, validate: (v: unknown) => /^[A-Za-z0-9._:\-/[\]]+$/.test(String(v ?? '')) },
    port: { value: '6210', validate: intIn(1, 65535, true) },
    mode: { value: 'auto' },
    address: { value: '', validate: (v: unknown) => /^[0-9A-Za-z ]{0,32}$/.test(String(v ?? '')) },
    maxBaud: { value: '9600' },
    timeout: { value: '1500', validate: intIn(50, 600000) },
    timeDifference: { value: '0', validate: intIn(0, 86400) },
    timeZone: { value: '' },
    system: { value: '', type: 'ems-system', required: false },
  },
  credentials: { password: { type: 'password' } },
  label() {
    return this.name || this.meterId || `IEC 62056-21 ${this.address || this.host}`;
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
});
