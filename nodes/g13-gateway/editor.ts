import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties { url: string; tls: string; fingerprint: string; timeZone: string; timeout: string }

RED.nodes.registerType<Props, { user: string; password: string }>('ems-g13-gateway', {
  category: 'config',
  defaults: {
    name: { value: '' },
    url: { value: 'https://192.168.1.12', required: true, validate: (v: string) => /^(https?:\/\/)?[^\s/?]+(:\d+)?\/?$/.test(v) || /\$\{/.test(v) },
    tls: { value: 'fingerprint', required: true },
    fingerprint: {
      value: '',
      validate(this: Props, v: string) {
        const mode = $('#node-config-input-tls').length ? $('#node-config-input-tls').val() : this.tls;
        return mode !== 'fingerprint' || /\$\{/.test(v) || v.replace(/^sha-?256[:=\s]*/i, '').replace(/[^0-9a-fA-F]/g, '').length === 64;
      },
    },
    timeZone: { value: '' },
    timeout: { value: '15000', validate: (v: string) => v === '' || (/^\d+$/.test(v) && Number(v) >= 100 && Number(v) <= 600000) },
  },
  credentials: { user: { type: 'text' }, password: { type: 'password' } },
  label() { return this.name || this.url || 'G13 gateway'; },
  oneditprepare() {
    const show = () => $('.ems-g13-fingerprint').toggle($('#node-config-input-tls').val() === 'fingerprint');
    $('#node-config-input-tls').on('change', show);
    show();
  },
});
