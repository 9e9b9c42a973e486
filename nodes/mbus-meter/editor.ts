import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties { bus: string; meterId: string; address: string; energyUnit: string }

/** Primary 0..250, 8-digit secondary id (F = wildcard) or 16 hex digits. */
const validAddress = (v: string) => (/^\d{1,3}$/.test(v) && Number(v) <= 250) || /^[0-9Ff]{8}$/.test(v) || /^[0-9Ff]{8}[0-9a-fA-F]{8}$/.test(v);

RED.nodes.registerType<Props>('ems-mbus-meter', {
  category: 'energy',
  color: '#A6BBCF',
  icon: 'font-awesome/fa-thermometer-half',
  paletteLabel: 'mbus meter',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    bus: { value: '', type: 'ems-mbus-bus', required: true },
    meterId: { value: '' },
    address: { value: '0', required: true, validate: validAddress },
    energyUnit: { value: 'kWh' },
  },
  label() {
    return this.name || this.meterId || `mbus ${this.address}`;
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
});
