import type { EditorNodeProperties, EditorRED } from 'node-red';
import { parseQuantities } from '../../lib/store/ui-feed';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties {
  quantities: string;
  mode: string;
}

/** The same check as the runtime's: OBIS codes or quantity names, comma separated. */
function validQuantities(v: string): boolean {
  try {
    parseQuantities(v);
    return true;
  } catch {
    return false;
  }
}

RED.nodes.registerType<Props>('ems-ui-feed', {
  category: 'energy',
  color: '#C0DEED',
  icon: 'font-awesome/fa-line-chart',
  paletteLabel: 'ui feed',
  defaults: {
    name: { value: '' },
    quantities: { value: '1-0:16.7.0', validate: (v: string) => v === undefined || validQuantities(v) },
    mode: { value: 'auto', validate: (v: string) => v === undefined || v === 'auto' || v === 'live' || v === 'chart' },
  },
  inputs: 1,
  outputs: 1,
  inputLabels: 'readings or store query result',
  outputLabels: 'ui_chart / ui_gauge / ui_text messages',
  label() {
    return this.name || (this.quantities ? `ui feed ${this.quantities}` : 'ui feed');
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
});
