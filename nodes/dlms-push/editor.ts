import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties {
  meterId: string; mode: string; host: string; port: string; baud: string; framing: string; timeZone: string; systemTitle: string;
}

const hexKey = (v: unknown) => { const s = String(v ?? '').replace(/[\s:]/g, ''); return s === '' || s === '__PWRD__' || /^[0-9A-Fa-f]{32}$/.test(s); };

RED.nodes.registerType<Props, { key: string; authKey: string }>('ems-dlms-push', {
  category: 'energy',
  color: '#E2D96E',
  icon: 'font-awesome/fa-bullhorn',
  paletteLabel: 'DLMS push',
  inputs: 0,
  outputs: 1,
  defaults: {
    name: { value: '' },
    meterId: { value: '' },
    mode: { value: 'tcp' },
    host: {
      value: '127.0.0.1',
      validate(this: Props, v: unknown) {
        const s = String(v ?? '').trim();
        return (this.mode === 'listen' || s !== '') && /^[A-Za-z0-9._:\-/[\]\\]*$/.test(s);
      },
    },
    port: {
      value: '4070',
      validate(this: Props, v: unknown) {
        if (this.mode === 'serial') return true;
        const n = Number(v);
        return Number.isInteger(n) && n >= 1 && n <= 65535;
      },
    },
    baud: { value: '2400' },
    framing: { value: 'auto' },
    timeZone: { value: '' },
    systemTitle: { value: '', validate: (v: unknown) => /^([0-9A-Fa-f]{16})?$/.test(String(v ?? '').replace(/\s/g, '')) },
  },
  credentials: { key: { type: 'password', validate: hexKey }, authKey: { type: 'password', validate: hexKey } },
  label() {
    if (this.name || this.meterId) return this.name || this.meterId;
    if (this.mode === 'serial') return `DLMS push ${this.host}`;
    return this.mode === 'listen' ? `DLMS push :${this.port}` : `DLMS push ${this.host}:${this.port}`;
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
  oneditprepare() {
    const show = () => {
      const serial = $('#node-input-mode').val() === 'serial';
      $('.ems-dlms-push-serial').toggle(serial);
      $('#node-input-port').toggle(!serial);
    };
    $('#node-input-mode').on('change', show);
    show();
  },
});
