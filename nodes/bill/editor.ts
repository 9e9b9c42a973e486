import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties {
  tariff: string;
  store: string;
  meter: string;
  period: string;
  interval: string;
  format: string;
  issue: boolean;
  billFile: string;
}

const INTERVAL = /^\s*\d+(\.\d+)?\s*(ms|s|m|min|h|d|w)\s*$/i;

RED.nodes.registerType<Props>('ems-bill', {
  category: 'energy',
  color: '#E2D96E',
  icon: 'font-awesome/fa-file-text-o',
  paletteLabel: 'bill',
  inputs: 1,
  outputs: 1,
  inputLabels: 'bill request',
  outputLabels: 'bill',
  defaults: {
    name: { value: '' },
    tariff: { value: '', type: 'ems-tariff', required: true },
    store: { value: '', type: 'ems-store', required: false },
    meter: { value: '' },
    period: { value: 'last-month', validate: (v: string) => ['this-month', 'last-month', 'custom'].includes(v) },
    interval: { value: '15m', validate: (v: string) => !v || (INTERVAL.test(v) && (!/d\s*$/i.test(v) || /^\s*\d+\s*d\s*$/i.test(v))) },
    format: { value: 'json', validate: (v: string) => ['json', 'csv', 'html'].includes(v) },
    issue: { value: false },
    billFile: { value: '' },
  },
  label() {
    return this.name || (this.meter ? `bill ${this.meter}` : 'bill');
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
  oneditprepare() {
    $('#node-input-period').val(this.period || 'last-month');
    $('#node-input-format').val(this.format || 'json');
  },
});
