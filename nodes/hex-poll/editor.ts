import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties {
  meterId: string; host: string; port: string; spec: string; address: string; waitingTime: string; pauseTime: string;
  packageSize: string; baudRate: string; dataBits: string; parity: string; stopBits: string; system: string;
}

const intIn = (min: number, max: number, optional = false) => (v: unknown) => {
  const s = String(v ?? '').trim();
  if (s === '') return optional;
  const n = Number(s);
  return Number.isInteger(n) && n >= min && n <= max;
};

RED.nodes.registerType<Props>('ems-hex-poll', {
  category: 'energy',
  color: '#E2D96E',
  icon: 'font-awesome/fa-terminal',
  paletteLabel: 'HEX poll',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    meterId: { value: '' },
    host: { value: '127.0.0.1', required: true, validate: (v: unknown) => /^[A-Za-z0-9._:\-/[\]]+$/.test(String(v ?? '')) },
    port: { value: '6211', validate: intIn(1, 65535, true) },
    spec: { value: 'modbus-rtu:010300000002C40B', validate: (v: unknown) => String(v ?? '') === '' || /^(raw|modbus-rtu|iec62056-21)(:.*)?$/.test(String(v)) },
    address: { value: '1' },
    waitingTime: { value: '1000', validate: intIn(50, 600000) },
    pauseTime: { value: '0', validate: intIn(0, 600000) },
    packageSize: { value: '0', validate: intIn(0, 65536) },
    baudRate: { value: '9600' },
    dataBits: { value: '8' },
    parity: { value: 'none' },
    stopBits: { value: '1' },
    system: { value: '', type: 'ems-system', required: false },
  },
  label() {
    return this.name || this.meterId || 'HEX poll';
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
});
