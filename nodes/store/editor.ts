import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties {
  backend: string;
  path: string;
  timeZone: string;
}

function validZone(v: string): boolean {
  if (!v) return true; // empty = the Node-RED server's zone
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: v });
    return true;
  } catch {
    return false;
  }
}

RED.nodes.registerType<Props>('ems-store', {
  category: 'config',
  defaults: {
    name: { value: '' },
    backend: { value: 'sqlite', required: true, validate: (v: string) => v === 'sqlite' },
    path: { value: '', validate: (v: string) => !/^\s+|\s+$/.test(v ?? '') },
    timeZone: { value: '', validate: validZone },
  },
  label() {
    return this.name || `sqlite ${this.path || 'ems-readings.sqlite'}`;
  },
  oneditprepare() {
    const zones = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
    const list = $('<datalist id="ems-store-zones">');
    for (const z of ['UTC', ...zones]) $('<option>').attr('value', z).appendTo(list);
    list.insertAfter('#node-config-input-timeZone');
    $('#node-config-input-timeZone').attr('list', 'ems-store-zones')
      .attr('placeholder', Intl.DateTimeFormat().resolvedOptions().timeZone);
  },
});
