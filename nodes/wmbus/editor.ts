import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties { meters: string; system: string; interval: string; serial: string; stick: string; linkMode: string; baud: string }

const METER_LINE = /^(?:[A-Za-z]{3}[-\s]?)?\d{8}(\s+\S.*)?$/;
const KEY_ENTRY = /^(?:[A-Za-z]{3}[-\s]?)?\d{8}\s*[=:\s]\s*[0-9A-Fa-f]{32}$/;

RED.nodes.registerType<Props, { keys: string }>('ems-wmbus', {
  category: 'energy',
  color: '#E2D96E',
  icon: 'font-awesome/fa-wifi',
  paletteLabel: 'wM-Bus',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    meters: { value: '', validate: (v: unknown) => String(v ?? '').split('\n').map((l) => l.trim()).every((l) => l === '' || l.startsWith('#') || METER_LINE.test(l)) },
    system: { value: '', type: 'ems-system', required: false },
    serial: { value: '' },
    stick: { value: 'im871a' },
    linkMode: { value: 'T1' },
    baud: { value: '', validate: (v: unknown) => { const t = String(v ?? '').trim(); const n = Number(t); return t === '' || (Number.isInteger(n) && n >= 300 && n <= 921600); } },
    interval: { value: '0', validate: (v: unknown) => { const n = Number(v); return String(v ?? '').trim() !== '' && Number.isFinite(n) && n >= 0 && n <= 86400; } },
  },
  credentials: {
    keys: {
      type: 'password',
      validate: (v: unknown) => { const s = String(v ?? ''); return s === '' || s === '__PWRD__' || s.split(/[\n,;]+/).map((e) => e.trim()).every((e) => e === '' || KEY_ENTRY.test(e)); },
    },
  },
  label() {
    return this.name || 'wM-Bus meters';
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
});
