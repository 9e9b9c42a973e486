import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties {
  server: string; operation: string; method: string; devEui: string; areaId: string; amount: string; valve: string;
  energyType: string; billDate: string; hours: string; params: string;
}

/** Which fields each operation uses. */
const FIELDS: Record<string, string[]> = {
  poll: [], readings: ['areaId', 'energyType', 'hours'], realtime: ['devEui', 'energyType'], meters: ['areaId', 'energyType'],
  bills: ['areaId', 'energyType', 'billDate'], topup: ['devEui', 'amount'], valve: ['devEui', 'valve'], call: ['method'],
};

RED.nodes.registerType<Props>('ems-lorawan-platform', {
  category: 'energy',
  color: '#C7E9C0',
  icon: 'font-awesome/fa-tint',
  paletteLabel: 'lorawan platform',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    server: { value: '', type: 'ems-lorawan-platform-server', required: false },
    operation: { value: 'realtime', required: true },
    method: { value: '' },
    devEui: { value: '', validate: (v: string) => v === '' || /^[0-9a-fA-F]{16}$/.test(v) },
    areaId: { value: '', validate: (v: string) => /^\d*$/.test(v) },
    amount: { value: '', validate: (v: string) => v === '' || /^\d+(\.\d+)?$/.test(v) },
    valve: { value: 'close' },
    energyType: { value: '' },
    billDate: { value: '', validate: (v: string) => v === '' || /^\d{4}-\d{2}$/.test(v) },
    hours: { value: '24', validate: (v: string) => /^\d*$/.test(v) },
    params: { value: '{}', validate: (v: string) => { try { JSON.parse(v || '{}'); return true; } catch { return false; } } },
  },
  label() {
    return this.name || (this.operation === 'call' ? this.method || 'lorawan platform' : `lorawan ${this.operation}`);
  },
  oneditprepare() {
    $('#node-input-params').typedInput({ types: ['json'] });
    const show = () => {
      const used = FIELDS[String($('#node-input-operation').val())] ?? [];
      for (const f of ['method', 'devEui', 'areaId', 'amount', 'valve', 'energyType', 'billDate', 'hours']) $(`.ems-lorap-${f}`).toggle(used.includes(f));
    };
    $('#node-input-operation').on('change', show);
    show();
  },
});
