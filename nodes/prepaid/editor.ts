import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface AccountDef { id: string; name?: string; currency: string; warnBelow: string; cutOffBelow: string; initialBalance?: string }
interface Props extends EditorNodeProperties { tariff: string; system: string; file: string; accounts: AccountDef[] }

const DECIMAL = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$/;
const decimalOrEmpty = (v: unknown) => v === undefined || v === null || String(v).trim() === '' || DECIMAL.test(String(v));

/** The same rules as the runtime: id, ISO currency, decimal thresholds with warn >= cut-off. */
function accountProblem(a: AccountDef): string | null {
  if (!a || typeof a.id !== 'string' || a.id.trim() === '') return 'id';
  if (!/^[A-Za-z]{3}$/.test(String(a.currency ?? '').trim())) return 'currency';
  if (!decimalOrEmpty(a.warnBelow)) return 'warnBelow';
  if (!decimalOrEmpty(a.cutOffBelow)) return 'cutOffBelow';
  if (!decimalOrEmpty(a.initialBalance)) return 'initialBalance';
  if (Number(a.warnBelow || 0) < Number(a.cutOffBelow || 0)) return 'warnBelow';
  return null;
}

const FIELDS: { key: keyof AccountDef; width: string }[] = [
  { key: 'id', width: '22%' }, { key: 'currency', width: '12%' }, { key: 'warnBelow', width: '16%' },
  { key: 'cutOffBelow', width: '16%' }, { key: 'initialBalance', width: '16%' },
];

RED.nodes.registerType<Props>('ems-prepaid', {
  category: 'energy',
  color: '#E2D96E',
  icon: 'font-awesome/fa-credit-card',
  paletteLabel: 'prepaid',
  inputs: 1,
  outputs: 2,
  outputLabels: ['result', 'valve commands'],
  defaults: {
    name: { value: '' },
    tariff: { value: '', type: 'ems-tariff', required: false },
    system: { value: '', type: 'ems-system', required: false },
    file: { value: '' },
    accounts: {
      value: [],
      validate(value: unknown) {
        const v = value as AccountDef[] | undefined;
        return v === undefined || (Array.isArray(v) && v.every((a) => accountProblem(a) === null)
          && new Set(v.map((a) => a.id.trim())).size === v.length);
      },
    },
  },
  label() {
    return this.name || 'prepaid';
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
  oneditprepare() {
    const node = this;
    const list = $('#node-input-accounts-container');
    list.css({ 'min-height': '150px', 'min-width': '450px' }).editableList({
      addItem(row: JQuery, _index: number, data: Partial<AccountDef>) {
        row.css({ display: 'flex', gap: '4px' });
        for (const f of FIELDS) {
          $('<input/>', { type: 'text', class: `node-input-account-${f.key}`, placeholder: node._(`ems-prepaid.placeholder.${f.key}`) })
            .css({ width: f.width })
            .attr('title', node._(`ems-prepaid.tip.${f.key}`))
            .val(String(data[f.key] ?? (f.key === 'currency' ? 'EUR' : f.key === 'warnBelow' || f.key === 'cutOffBelow' ? '0' : '')))
            .appendTo(row);
        }
      },
      removable: true,
      sortable: true,
    });
    for (const a of node.accounts ?? []) list.editableList('addItem', a);
  },
  oneditsave() {
    const accounts: AccountDef[] = [];
    $('#node-input-accounts-container').editableList('items').each(function (this: HTMLElement) {
      const row = $(this);
      const get = (k: string) => String(row.find(`.node-input-account-${k}`).val() ?? '').trim();
      const a: AccountDef = { id: get('id'), currency: get('currency').toUpperCase(), warnBelow: get('warnBelow'), cutOffBelow: get('cutOffBelow') };
      if (get('initialBalance') !== '') a.initialBalance = get('initialBalance');
      accounts.push(a);
    });
    this.accounts = accounts;
  },
  oneditresize(size: { height: number }) {
    const rows = $('#dialog-form>div:not(.node-input-accounts-row)');
    let height = size.height;
    rows.each(function (this: HTMLElement) { height -= $(this).outerHeight(true) ?? 0; });
    $('#node-input-accounts-container').editableList('height', Math.max(150, height - 40));
  },
});
