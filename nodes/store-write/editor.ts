import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties {
  store: string;
  batchSize: string;
  flushInterval: string;
}

const whole = (min: number, max: number) => (v: string) => /^\s*\d+\s*$/.test(String(v)) && Number(v) >= min && Number(v) <= max;

RED.nodes.registerType<Props>('ems-store-write', {
  category: 'energy',
  color: '#C0DEED',
  icon: 'font-awesome/fa-database',
  paletteLabel: 'store write',
  defaults: {
    name: { value: '' },
    store: { value: '', type: 'ems-store', required: true },
    batchSize: { value: '1000', required: true, validate: whole(1, 1000000) },
    flushInterval: { value: '1000', required: true, validate: whole(0, 3600000) },
  },
  inputs: 1,
  outputs: 1,
  inputLabels: 'readings',
  outputLabels: 'stored readings',
  label() {
    return this.name || 'store write';
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
});
