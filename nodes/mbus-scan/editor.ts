import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties { bus: string; mode: string }

RED.nodes.registerType<Props>('ems-mbus-scan', {
  category: 'energy',
  color: '#A6BBCF',
  icon: 'font-awesome/fa-search',
  paletteLabel: 'mbus scan',
  inputs: 1,
  outputs: 2,
  outputLabels: ['meters found', 'progress'],
  defaults: {
    name: { value: '' },
    bus: { value: '', type: 'ems-mbus-bus', required: true },
    mode: { value: 'secondary', required: true, validate: (v: string) => v === 'primary' || v === 'secondary' },
  },
  label() {
    return this.name || `mbus ${this.mode} scan`;
  },
});
