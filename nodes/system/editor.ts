import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties { store: string; path: string; billsPath: string; timeZone: string }

const envRef = (v: string): boolean => /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test((v ?? '').trim());

RED.nodes.registerType<Props>('ems-system', {
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
  },
  label() {
    return this.name || 'EMS';
  },
});
