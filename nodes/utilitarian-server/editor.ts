import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties { url: string; organization: string; tokenEnv: string; maxPages: string; timeout: string }

RED.nodes.registerType<Props, { token: string; username: string; password: string }>('ems-utilitarian-server', {
  category: 'config',
  defaults: {
    name: { value: '' },
    url: { value: '', validate: (v: string) => v === '' || /^(https?:\/\/\S+|\$\{\w+\})$/.test(v) },
    organization: { value: '' },
    tokenEnv: { value: '' },
    maxPages: { value: '100', validate: (v: string) => v === '' || /^\d+$/.test(v) },
    timeout: { value: '15000', validate: (v: string) => v === '' || /^\d+$/.test(v) },
  },
  credentials: { token: { type: 'password' }, username: { type: 'text' }, password: { type: 'password' } },
  label() { return this.name || this.url || 'utilitarian'; },
});
