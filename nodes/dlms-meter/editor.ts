import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties {
  meterId: string; host: string; port: string; serverAddress: string; clientSap: string; security: string; systemTitle: string;
  obis: string; baud: string; timeout: string; timeDifference: string; system: string;
}

const intIn = (min: number, max: number, optional = false) => (v: unknown) => {
  const s = String(v ?? '').trim();
  if (s === '') return optional;
  const n = Number(s);
  return Number.isInteger(n) && n >= min && n <= max;
};

RED.nodes.registerType<Props, { password: string; encryptionKey: string; authenticationKey: string }>('ems-dlms-meter', {
  category: 'energy',
  color: '#E2D96E',
  icon: 'font-awesome/fa-lock',
  paletteLabel: 'DLMS meter',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    meterId: { value: '' },
    host: { value: '127.0.0.1', required: true, validate: (v: unknown) => /^[A-Za-z0-9._:\-/[\]]+$/.test(String(v ?? '')) },
    port: { value: '4059', validate: intIn(1, 65535, true) },
    serverAddress: { value: '1', validate: (v: unknown) => /^\d{1,5}(\/\d{1,5})?$/.test(String(v ?? '').replace(/\s/g, '')) },
    clientSap: { value: '', validate: intIn(1, 127, true) },
    security: { value: 'lowest' },
    systemTitle: { value: '', validate: (v: unknown) => /^([0-9A-Fa-f]{16})?$/.test(String(v ?? '').replace(/[\s:]/g, '')) },
    obis: { value: '' },
    baud: { value: '9600', validate: intIn(300, 115200) },
    timeout: { value: '5000', validate: intIn(50, 600000) },
    timeDifference: { value: '0', validate: intIn(0, 86400) },
    system: { value: '', type: 'ems-system', required: false },
  },
  credentials: { password: { type: 'password' }, encryptionKey: { type: 'password' }, authenticationKey: { type: 'password' } },
  label() {
    return this.name || this.meterId || `DLMS ${this.host}`;
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
  oneditprepare() {
    const show = () => {
      const level = $('#node-input-security').val();
      $('.ems-dlms-lls').toggle(level === 'lls');
      $('.ems-dlms-hls').toggle(level === 'hls-gmac');
    };
    $('#node-input-security').on('change', show);
    show();
  },
});
