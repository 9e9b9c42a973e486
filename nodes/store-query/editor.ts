import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties {
  store: string;
  mode: string;
  meter: string;
  obis: string;
  range: string;
  window: string;
  fn: string;
  limit: string;
  interval: string;
}

const DURATION = /^\s*-?\d+(\.\d+)?\s*(ms|s|m|min|h|d|w)\s*$/i;
const INTERVAL = /^\s*\d+(\.\d+)?\s*(ms|s|m|min|h|d|w)\s*$/i;
const OBIS = /^\s*(\d{1,3}-\d{1,3}:)?(\d{1,3}|[CFLP])\.\d{1,3}\.\d{1,3}([*.&]\d{1,3})?\s*$/;

RED.nodes.registerType<Props>('ems-store-query', {
  category: 'energy',
  color: '#C0DEED',
  icon: 'font-awesome/fa-search',
  paletteLabel: 'store query',
  defaults: {
    name: { value: '' },
    store: { value: '', type: 'ems-store', required: true },
    mode: { value: 'range', required: true, validate: (v: string) => v === 'range' || v === 'latest' || v === 'gaps' },
    meter: { value: '' },
    obis: { value: '', validate: (v: string) => !v || OBIS.test(v) },
    range: { value: '-24h', validate: (v: string) => !v || DURATION.test(v) },
    window: { value: '', validate: (v: string) => !v || v === 'none' || DURATION.test(v) },
    fn: { value: 'mean', validate: (v: string) => ['first', 'last', 'min', 'max', 'mean', 'sum', 'delta'].includes(v) || v === '' },
    limit: { value: '', validate: (v: string) => !v || (/^\s*\d+\s*$/.test(v) && Number(v) >= 1) },
    interval: { value: '15m', validate: (v: string) => !v || (INTERVAL.test(v) && (!/d\s*$/i.test(v) || /^\s*\d+\s*d\s*$/i.test(v))) },
  },
  inputs: 1,
  outputs: 1,
  inputLabels: 'query',
  outputLabels: 'rows',
  label() {
    if (this.name) return this.name;
    if (this.mode === 'latest') return `latest ${this.meter || ''}`.trim();
    if (this.mode === 'gaps') return `gaps ${this.meter || ''} ${this.interval || '15m'}`.replace(/\s+/g, ' ').trim();
    return [this.meter || 'store query', this.obis, this.window ? `${this.window} ${this.fn}` : ''].filter(Boolean).join(' ');
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
  oneditprepare() {
    const show = () => {
      const mode = $('#node-input-mode').val();
      $('.ems-store-query-range').toggle(mode === 'range');
      $('.ems-store-query-from').toggle(mode !== 'latest');
      $('.ems-store-query-gaps').toggle(mode === 'gaps');
    };
    $('#node-input-mode').on('change', show);
    show();
  },
});
