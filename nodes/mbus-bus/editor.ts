import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties {
  transport: string; host: string; port: string; serialPath: string; baudRate: string; parity: string;
  ir: boolean; timeout: string; retries: string; queueLimit: string;
}

const intIn = (min: number, max: number, optional = false) => (v: string) =>
  (optional && v === '') || (/^\s*(\$\{\w+\}|\d+)\s*$/.test(String(v)) && (/\$\{/.test(v) || (Number(v) >= min && Number(v) <= max)));

RED.nodes.registerType<Props>('ems-mbus-bus', {
  category: 'config',
  defaults: {
    name: { value: '' },
    transport: { value: 'tcp', required: true },
    host: { value: '127.0.0.1' },
    port: { value: '10001', validate: intIn(1, 65535, true) },
    serialPath: { value: '' },
    baudRate: { value: '2400', validate: intIn(50, 921600, true) },
    parity: { value: 'even' },
    ir: { value: false },
    timeout: { value: '0', validate: intIn(0, 60000, true) },
    retries: { value: '1', validate: intIn(0, 10) },
    queueLimit: { value: '256', validate: intIn(1, 100000) },
  },
  label() {
    if (this.name) return this.name;
    return this.transport === 'serial' ? `${this.ir ? 'M-Bus IR' : 'M-Bus'} ${this.serialPath || 'serial'} ${this.baudRate}` : `M-Bus ${this.host}:${this.port}`;
  },
  oneditprepare() {
    const show = () => {
      const serial = $('#node-config-input-transport').val() === 'serial';
      $('.ems-mbus-tcp').toggle(!serial);
      $('.ems-mbus-serial').toggle(serial);
    };
    $('#node-config-input-transport').on('change', show);
    show();
  },
});
