import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties {
  tariff: string;
  output: string;
  separator: string;
  decimalComma: boolean;
}

RED.nodes.registerType<Props>('ems-price', {
  category: 'energy',
  color: '#E2D96E',
  icon: 'font-awesome/fa-eur',
  paletteLabel: 'price',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    tariff: { value: '', type: 'ems-tariff', required: true },
    output: { value: 'result', validate: (v: string) => v === 'result' || v === 'total' },
    separator: { value: 'auto', validate: (v: string) => v === undefined || ['auto', ',', ';', 'tab'].includes(v) },
    decimalComma: { value: false },
  },
  label() {
    if (this.name) return this.name;
    const t = RED.nodes.node(this.tariff) as unknown as { name?: string; _def?: { label?: unknown } } | null;
    const name = t && (t.name || (typeof t._def?.label === 'function' ? (t._def.label as () => string).call(t) : ''));
    return name ? `price: ${name}` : 'price';
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
  oneditprepare() {
    $('#node-input-output').val(this.output || 'result');
    $('#node-input-separator').val(this.separator || 'auto');
  },
});
