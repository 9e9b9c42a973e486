import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties { meterId: string; host: string; port: string; baud: string; silence: string }

const intIn = (min: number, max: number, optional = false) => (v: unknown) => {
  const s = String(v ?? '').trim();
  if (s === '') return optional;
  const n = Number(s);
  return Number.isInteger(n) && n >= min && n <= max;
};

RED.nodes.registerType<Props>('ems-sml-meter', {
  category: 'energy',
  color: '#E2D96E',
  icon: 'font-awesome/fa-eye',
  paletteLabel: 'SML meter',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    meterId: { value: '' },
    host: { value: '127.0.0.1', validate: (v: unknown) => /^[A-Za-z0-9._:\-/[\]]*$/.test(String(v ?? '')) },
    port: { value: '7259', validate: intIn(1, 65535, true) },
    baud: { value: '9600' },
    silence: { value: '60', validate: intIn(0, 86400) },
  },
  label() {
    if (this.name || this.meterId) return this.name || this.meterId;
    return this.host ? `SML ${this.host}${this.host.startsWith('/') ? '' : `:${this.port}`}` : 'SML meters (EMS polls)';
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
});
