import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties {
  store: string; path: string; billsPath: string; timeZone: string;
  smtpHost: string; smtpPort: string; smtpSecurity: string; smtpFrom: string; smtpAllowSelfSigned: boolean;
  mqttUrl: string; mqttPrefix: string; webhookUrl: string; dashboardUrl: string;
}
interface Creds { smtpUser: string; smtpPassword: string; mqttUser: string; mqttPassword: string; webhookSecret: string }

const envRef = (v: string): boolean => /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test((v ?? '').trim());

RED.nodes.registerType<Props, Creds>('ems-system', {
  category: 'config',
  defaults: {
    name: { value: 'EMS' },
    store: { value: '', type: 'ems-store', required: true },
    path: { value: '' },
    billsPath: { value: '' },
    timeZone: {
      value: '',
      validate(v: string) {
        if (!v || envRef(v)) return true;
        try { new Intl.DateTimeFormat('en-US', { timeZone: v }); return true; } catch { return false; }
      },
    },
    smtpHost: { value: '' },
    smtpPort: { value: '', validate: (v: string) => !v || envRef(v) || (/^\d{1,5}$/.test(v) && Number(v) >= 1 && Number(v) <= 65535) },
    smtpSecurity: { value: '' },
    smtpFrom: { value: '' },
    smtpAllowSelfSigned: { value: false },
    mqttUrl: { value: '', validate: (v: string) => !v || envRef(v) || /^(mqtts?|wss?):\/\/[^/@\s]+/.test(v) },
    mqttPrefix: { value: '' },
    webhookUrl: { value: '', validate: (v: string) => !v || envRef(v) || /^https?:\/\/\S+$/.test(v) },
    dashboardUrl: { value: '', validate: (v: string) => !v || envRef(v) || /^https?:\/\/\S+$/.test(v) },
  },
  credentials: {
    smtpUser: { type: 'text' },
    smtpPassword: { type: 'password' },
    mqttUser: { type: 'text' },
    mqttPassword: { type: 'password' },
    webhookSecret: { type: 'password' },
  },
  label() {
    return this.name || 'EMS';
  },
});
