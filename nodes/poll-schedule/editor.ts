import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties { system: string; protocols: string }

/** lib/ems/meter-definition.ts PROTOCOLS (test/nodes/poll-schedule.test.ts keeps the two equal). */
const PROTOCOLS = ['modbus-tcp', 'modbus-rtu-over-tcp', 'modbus-rtu', 'mbus', 'iec62056-21', 'hex', 'g13', 'lorawan', 'lorawan-platform', 'p1', 'sml', 'wmbus', 'dlms', 'manual', 'virtual'];

RED.nodes.registerType<Props>('ems-poll-schedule', {
  category: 'energy',
  color: '#C7E9C0',
  icon: 'font-awesome/fa-clock-o',
  paletteLabel: 'poll schedule',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    system: { value: '', type: 'ems-system', required: true },
    protocols: {
      value: '',
      validate(v: string) {
        return (v ?? '').split(',').map((s) => s.trim()).filter(Boolean).every((p) => PROTOCOLS.includes(p));
      },
    },
  },
  label() {
    return this.name || (this.protocols ? `poll ${this.protocols}` : 'poll schedule');
  },
});
