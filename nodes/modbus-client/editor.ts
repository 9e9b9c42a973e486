import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties {
  transport: string; host: string; port: string; serialPath: string; baudRate: string; parity: string;
  dataBits: string; stopBits: string; timeout: string; retries: string; interFrameGap: string; queueLimit: string;
}

const intIn = (min: number, max: number, optional = false) => (v: string) =>
  (optional && v === '') || (/^\s*(\$\{\w+\}|\d+)\s*$/.test(String(v)) && (/\$\{/.test(v) || (Number(v) >= min && Number(v) <= max)));

RED.nodes.registerType<Props>('ems-modbus-client', {
  category: 'config',
  defaults: {
    name: { value: '' },
    transport: { value: 'tcp', required: true },
    host: { value: '127.0.0.1' },
    port: { value: '502', validate: intIn(1, 65535, true) },
    serialPath: { value: '' },
    baudRate: { value: '9600', validate: intIn(50, 4000000, true) },
    parity: { value: 'none' },
    dataBits: { value: '8' },
    stopBits: { value: '1' },
    timeout: { value: '1000', validate: intIn(10, 60000) },
    retries: { value: '1', validate: intIn(0, 10) },
    interFrameGap: { value: '', validate: (v: string) => v === '' || intIn(0, 10000)(v) },
    queueLimit: { value: '256', validate: intIn(1, 100000) },
  },
  label() {
    if (this.name) return this.name;
    return this.transport === 'rtu' ? `${this.serialPath || 'serial'} ${this.baudRate}` : `modbus ${this.host}:${this.port}`;
  },
  oneditprepare() {
    const show = () => {
      const serial = $('#node-config-input-transport').val() === 'rtu';
      $('.ems-modbus-tcp').toggle(!serial);
      $('.ems-modbus-serial').toggle(serial);
    };
    $('#node-config-input-transport').on('change', show);
    show();
  },
});
