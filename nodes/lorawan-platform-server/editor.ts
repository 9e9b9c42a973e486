import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties { url: string; utcOffset: string; timeout: string }

RED.nodes.registerType<Props, { username: string; password: string; apiToken: string }>('ems-lorawan-platform-server', {
  category: 'config',
  defaults: {
    name: { value: '' },
    url: { value: 'http://english.energyy.ucskype.com/api/commonInternal.jsp', validate: (v: string) => v === '' || /^(https?:\/\/\S+|\$\{\w+\})$/.test(v) },
    utcOffset: { value: '0', validate: (v: string) => /^-?\d*$/.test(v) },
    timeout: { value: '10000', validate: (v: string) => /^\d*$/.test(v) },
  },
  credentials: { username: { type: 'text' }, password: { type: 'password' }, apiToken: { type: 'password' } },
  label() {
    return this.name || this.url || 'LoRaWAN platform';
  },
});
