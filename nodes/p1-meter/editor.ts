import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties {
  meterId: string; host: string; port: string; dsmr: string; timeZone: string; interval: string;
}

const serialPath = (host: string) => host.startsWith('/') || /^COM\d+$/i.test(host);
const hexKey = (v: unknown) => { const s = String(v ?? '').replace(/[\s:]/g, ''); return s === '' || s === '__PWRD__' || /^[0-9A-Fa-f]{32}$/.test(s); };

RED.nodes.registerType<Props, { key: string; aad: string }>('ems-p1-meter', {
  category: 'energy',
  color: '#E2D96E',
  icon: 'font-awesome/fa-bolt',
  paletteLabel: 'P1 meter',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    meterId: { value: '' },
    host: { value: '127.0.0.1', validate: (v: unknown) => /^[A-Za-z0-9._:\-/[\]\\]*$/.test(String(v ?? '')) },
    port: {
      value: '2001',
      validate(this: Props, v: unknown) {
        const host = String(this.host ?? '').trim();
        if (host === '' || serialPath(host)) return true;
        const n = Number(v);
        return Number.isInteger(n) && n >= 1 && n <= 65535;
      },
    },
    dsmr: { value: '4' },
    timeZone: { value: '' },
    interval: { value: '0', validate: (v: unknown) => { const n = Number(v); return String(v ?? '').trim() !== '' && Number.isFinite(n) && n >= 0 && n <= 86400; } },
  },
  credentials: { key: { type: 'password', validate: hexKey }, aad: { type: 'password', validate: hexKey } },
  label() {
    return this.name || this.meterId || (this.host ? `P1 ${this.host}${serialPath(this.host) ? '' : `:${this.port}`}` : 'P1 meter');
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
});
