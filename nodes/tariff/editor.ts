import type { EditorNodeProperties, EditorRED } from 'node-red';
import { EXAMPLE_TARIFFS } from './examples';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties {
  tariff: string;
}

interface Check {
  ok: boolean;
  problems: { field: string; message: string }[];
  text: string;
}

type Editor = ReturnType<EditorRED['editor']['createEditor']>;
let editor: Editor | null = null;
let timer: ReturnType<typeof setTimeout> | undefined;
let asked = 0;
/** The node's own translator (this._ in oneditprepare knows the catalog's namespace). */
let t: (key: string, subs?: Record<string, unknown>) => string = (key) => key;

const pretty = (t: object): string => JSON.stringify(t, null, 2);

function parses(v: string): boolean {
  try {
    const t = JSON.parse(v);
    return t !== null && typeof t === 'object' && !Array.isArray(t);
  } catch {
    return false;
  }
}

/** Shows the server's verdict: problems (field + message) or the periods summary. */
function show(check: Check): void {
  const box = $('#ems-tariff-problems').empty();
  $('#ems-tariff-verdict')
    .text(t(check.ok ? 'ems-tariff.check.valid' : 'ems-tariff.check.invalid', { count: check.problems.length }))
    .css('color', check.ok ? 'var(--red-ui-text-color-success, #3c763d)' : 'var(--red-ui-text-color-error, #c00)');
  for (const p of check.problems) {
    $('<li>').append($('<code>').text(p.field), document.createTextNode(` ${p.message}`)).appendTo(box);
  }
  $('#ems-tariff-summary').text(check.text || '').toggle(!!check.text);
}

/** Asks the runtime to validate and describe the text in the editor (the newest answer wins). */
function validate(): void {
  if (!editor) return;
  const id = ++asked;
  $('#ems-tariff-verdict').text(t('ems-tariff.check.checking')).css('color', '');
  $.ajax({
    url: 'ems-tariff/validate',
    type: 'POST',
    contentType: 'application/json',
    data: JSON.stringify({ tariff: editor.getValue() }),
    dataType: 'json',
  }).done((check: Check) => {
    if (id === asked) show(check);
  }).fail((xhr) => {
    if (id === asked) show({ ok: false, problems: [{ field: 'validate', message: `${xhr.status} ${xhr.statusText}` }], text: '' });
  });
}

function later(): void {
  if (timer) clearTimeout(timer);
  timer = setTimeout(validate, 600);
}

function close(): void {
  if (timer) clearTimeout(timer);
  timer = undefined;
  editor?.destroy();
  editor = null;
}

RED.nodes.registerType<Props>('ems-tariff', {
  category: 'config',
  defaults: {
    name: { value: '' },
    tariff: { value: pretty(EXAMPLE_TARIFFS.flat), required: true, validate: parses },
  },
  label() {
    if (this.name) return this.name;
    try {
      const t = JSON.parse(this.tariff) as { name?: unknown; id?: unknown };
      return String(t.name || t.id || 'tariff');
    } catch {
      return 'tariff';
    }
  },
  oneditprepare() {
    t = this._.bind(this) as typeof t;
    editor = RED.editor.createEditor({
      id: 'node-config-input-tariff-editor',
      mode: 'ace/mode/json',
      value: $('#node-config-input-tariff').val() as string,
    });
    editor.getSession().on('change', later);
    $('#ems-tariff-validate').on('click', (e) => {
      e.preventDefault();
      validate();
    });
    $('#ems-tariff-load').on('click', (e) => {
      e.preventDefault();
      const which = $('#ems-tariff-example').val() as keyof typeof EXAMPLE_TARIFFS;
      if (editor && EXAMPLE_TARIFFS[which]) editor.setValue(pretty(EXAMPLE_TARIFFS[which]), -1);
      validate();
    });
    validate();
  },
  oneditsave() {
    if (editor) $('#node-config-input-tariff').val(editor.getValue());
    close();
  },
  oneditcancel() {
    close();
  },
});
