import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties { store: string; operation: string }

RED.nodes.registerType<Props>('ems-api', {
  category: 'energy',
  color: '#C7E9C0',
  icon: 'font-awesome/fa-exchange',
  paletteLabel: 'ems api',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    store: { value: '', type: 'ems-store', required: true },
    operation: { value: 'meters.list', required: true },
  },
  label() {
    return this.name || this._(`ems-api.operation.${this.operation}`);
  },
});
