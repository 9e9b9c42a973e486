import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;
declare const $: JQueryStatic;

interface Props extends EditorNodeProperties { system: string; operation: string; identity: string; user: string }
interface Creds { apiKey: string }

const IDENTITIES = ['request', 'user', 'key', 'dashboard'];
const LOGIN = /^[A-Za-z0-9._@-]{1,64}$/;
const API_KEY = /^emsk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/;
/** The identity currently chosen: the dialog's while it is open, else the node's. */
function identityOf(node: { identity?: string }): string {
  const open = $('#node-input-identity');
  return (open.length ? (open.val() as string) : node.identity) || 'request';
}
interface OperationInfo { name: string; method: string; path: string; tag: string; summary: string; access: string }

/** Filled from the runtime's operation table (GET /ems-api/operations) when a dialog opens. */
let operations: OperationInfo[] | null = null;

RED.nodes.registerType<Props, Creds>('ems-api', {
  category: 'energy',
  color: '#C7E9C0',
  icon: 'font-awesome/fa-exchange',
  paletteLabel: 'ems api',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    system: { value: '', type: 'ems-system', required: true },
    operation: { value: 'auth.session', required: true },
    identity: { value: 'request', validate: (v: string) => v === undefined || v === '' || IDENTITIES.includes(v) },
    user: {
      value: '',
      validate(this: Props, v: string) { return identityOf(this) !== 'user' || LOGIN.test((v ?? '').trim()); },
    },
  },
  credentials: {
    apiKey: {
      type: 'password',
      validate(this: Props & { credentials?: { has_apiKey?: boolean } }, v: string) {
        if (identityOf(this) !== 'key') return true;
        return v === '__PWRD__' || API_KEY.test(v ?? '') || (!v && Boolean(this.credentials?.has_apiKey));
      },
    } as { type: 'password' }, // the editor also runs a credential's validate; the typings omit it
  },
  label() {
    return this.name || this.operation;
  },
  oneditprepare() {
    const node = this;
    const identity = $('#node-input-identity');
    identity.val(this.identity || 'request');
    const showIdentity = (): void => {
      const mode = (identity.val() as string) || 'request';
      $('.ems-api-identity').hide();
      $(`.ems-api-identity-${mode}`).show();
      $('#ems-api-identity-tip').text(node._(`ems-api.tip.${mode}`));
    };
    identity.on('change', showIdentity);
    showIdentity();
    const select = $('#node-input-operation');
    const current = this.operation;
    const fill = (ops: OperationInfo[]): void => {
      select.empty();
      const groups = new Map<string, JQuery>();
      for (const op of ops) {
        let group = groups.get(op.tag);
        if (!group) groups.set(op.tag, (group = $('<optgroup>').attr('label', op.tag).appendTo(select)));
        $('<option>').val(op.name).text(`${op.method} ${op.path} (${op.summary})`).appendTo(group);
      }
      select.val(current);
      const show = (): void => {
        const op = ops.find((o) => o.name === select.val());
        $('#ems-api-access').text(op ? `${op.name}: ${op.access === 'public' ? 'no login needed' : `needs the ${op.access} role`}` : '');
      };
      select.on('change', show);
      show();
    };
    if (operations) fill(operations);
    else $.getJSON('ems-api/operations', (ops: OperationInfo[]) => { operations = ops; fill(ops); });
  },
});
