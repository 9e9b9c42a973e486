import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties {
  interval: string; timeZone: string; interpolate: boolean; rolloverAt: string; maxPower: string; obis: string;
}

const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|d|w)?\s*$/i;
const positiveOrEmpty = (v: string) => v === undefined || String(v).trim() === '' || (Number.isFinite(Number(v)) && Number(v) > 0);

function validZone(v: string): boolean {
  if (v === undefined || v.trim() === '') return true;
  try {
    new Intl.DateTimeFormat('en', { timeZone: v.trim() });
    return true;
  } catch {
    return false;
  }
}

RED.nodes.registerType<Props>('ems-consumption', {
  category: 'energy',
  color: '#C7E9C0',
  icon: 'font-awesome/fa-bar-chart',
  paletteLabel: 'consumption',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    interval: { value: '1h', validate: (v: string) => v === undefined || v.trim() === '' || (DURATION.test(v) && Number(DURATION.exec(v)![1]) > 0) },
    timeZone: { value: '', validate: validZone },
    interpolate: { value: false },
    rolloverAt: { value: '', validate: positiveOrEmpty },
    maxPower: { value: '', validate: positiveOrEmpty },
    obis: { value: '', validate: (v: string) => v === undefined || /^[\s,;]*([0-9A-Za-z\-:.*]+[\s,;]*)*$/.test(v) },
  },
  label() {
    return this.name || (this.interval ? `consumption ${this.interval}` : 'consumption');
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
  oneditprepare() {
    let zone = 'UTC';
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
    } catch { /* keep UTC */ }
    $('#node-input-timeZone').attr('placeholder', this._('ems-consumption.placeholder.timeZone', { zone }));
  },
});
