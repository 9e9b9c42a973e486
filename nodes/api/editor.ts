import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;
declare const $: JQueryStatic;

interface Props extends EditorNodeProperties { system: string; operation: string }
interface OperationInfo { name: string; method: string; path: string; tag: string; summary: string; access: string }

/** Filled from the runtime's operation table (GET /ems-api/operations) when a dialog opens. */
let operations: OperationInfo[] | null = null;

RED.nodes.registerType<Props>('ems-api', {
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
  },
  label() {
    return this.name || this.operation;
  },
  oneditprepare() {
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
