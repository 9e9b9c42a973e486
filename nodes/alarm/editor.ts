import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties {
  ruleMode: string; rules: string; ruleName: string; meter: string; condition: string;
  obis: string; direction: string; threshold: string; unit: string; intervals: string; count: string;
  window: string; above: string; below: string; kinds: string;
  severity: string; delay: string; clearAfter: string; hysteresis: string; holdOff: string;
  activeDays: string; activeFrom: string; activeTo: string;
  timeZone: string; interval: string; listOutput: boolean; outputs: number;
}

const FIELDS = ['name', 'ruleMode', 'rules', 'ruleName', 'meter', 'condition', 'obis', 'direction', 'threshold', 'unit', 'intervals', 'count',
  'window', 'above', 'below', 'kinds', 'severity', 'delay', 'clearAfter', 'hysteresis', 'holdOff', 'activeDays', 'activeFrom', 'activeTo', 'timeZone', 'interval'];
/** The form rows each condition uses (the rows carry the class ems-alarm-<field>). */
const ROWS: Record<string, string[]> = {
  threshold: ['obis', 'threshold', 'unit', 'hysteresis'],
  stale: ['intervals'],
  poll_failures: ['count'],
  window_consumption: ['obis', 'window', 'unit'],
  register_sanity: ['obis', 'kinds'],
};
/** Defaults that follow the condition: an energy register and kWh for windows and sanity, power in kW for thresholds. */
const OBIS_OF: Record<string, string> = { threshold: '1-0:1.7.0', window_consumption: '1-0:1.8.0', register_sanity: '1-0:1.8.0' };
const UNIT_OF: Record<string, string> = { threshold: 'kW', window_consumption: 'kWh' };
const EXAMPLE_RULES = JSON.stringify([
  { name: 'Power above 50 kW', condition: { type: 'threshold', obis: '1-0:1.7.0', direction: 'above', value: 50, unit: 'kW' }, severity: 'critical', delay_s: 60, hysteresis: 5 },
  { name: 'Meter silent', condition: { type: 'stale', intervals: 3 }, severity: 'warning' },
], null, 2);

const blank = (v: unknown) => v === undefined || v === null || String(v).trim() === '';
const number = (v: unknown) => !blank(v) && Number.isFinite(Number(v));
const optionalNumber = (v: unknown) => blank(v) || number(v);
const optionalWhole = (v: unknown) => blank(v) || (number(v) && Number.isInteger(Number(v)) && Number(v) >= 0);
const OBIS = /^\s*(\d{1,3}-\d{1,3}:)?(\d{1,3}|[CFLP])\.\d{1,3}\.\d{1,3}([*.&]\d{1,3})?\s*$/;
const DURATION = /^\s*\d+(\.\d+)?\s*(ms|s|m|min|h|d|w)?\s*$/i;
const HHMM = /^\s*(([01]\d|2[0-3]):[0-5]\d|24:00)\s*$/;

function parsesRules(v: string): boolean {
  try {
    const x = JSON.parse(v);
    return typeof x === 'object' && x !== null;
  } catch {
    return false;
  }
}

function validZone(v: string): boolean {
  if (blank(v)) return true;
  try {
    new Intl.DateTimeFormat('en', { timeZone: v.trim() });
    return true;
  } catch {
    return false;
  }
}

let editor: ReturnType<EditorRED['editor']['createEditor']> | null = null;
let timer: ReturnType<typeof setTimeout> | undefined;
let asked = 0;

/** Asks the runtime to check the rules the dialog makes (the newest answer wins). */
function check(t: (key: string, subs?: Record<string, unknown>) => string): void {
  const body: Record<string, unknown> = {};
  for (const f of FIELDS) body[f] = f === 'rules' && editor ? editor.getValue() : $(`#node-input-${f}`).val();
  const id = ++asked;
  const verdict = $('#ems-alarm-verdict');
  $.ajax({ url: 'ems-alarm/check', type: 'POST', contentType: 'application/json', data: JSON.stringify(body), dataType: 'json' })
    .done((r: { ok: boolean; problem: string | null; rules: { name: string; subject: { meter: string } | null; condition: { type: string } }[] }) => {
      if (id !== asked) return;
      const text = r.ok
        ? t('ems-alarm.check.valid', { rules: r.rules.map((x) => `${x.name} (${x.condition.type}, ${x.subject ? x.subject.meter : t('ems-alarm.check.everyMeter')})`).join('; ') })
        : r.problem ?? '';
      verdict.text(text).css('color', r.ok ? 'var(--red-ui-text-color-success, #3c763d)' : 'var(--red-ui-text-color-error, #c00)');
    })
    .fail((xhr) => { if (id === asked) verdict.text(`${xhr.status} ${xhr.statusText}`).css('color', ''); });
}

RED.nodes.registerType<Props>('ems-alarm', {
  category: 'energy',
  color: '#F3B567',
  icon: 'font-awesome/fa-bell',
  paletteLabel: 'alarm',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    ruleMode: { value: 'form', validate: (v: string) => v === 'form' || v === 'json' },
    rules: { value: EXAMPLE_RULES, validate(this: Props, v: string) { return this.ruleMode !== 'json' || parsesRules(v); } },
    ruleName: { value: '' },
    meter: { value: '' },
    condition: { value: 'threshold', validate: (v: string) => v in ROWS },
    obis: { value: '1-0:1.7.0', validate(this: Props, v: string) { return this.ruleMode === 'json' || (blank(v) ? this.condition !== 'threshold' : OBIS.test(v)); } },
    direction: { value: 'above', validate: (v: string) => v === 'above' || v === 'below' },
    threshold: { value: '50', validate(this: Props, v: string) { return this.ruleMode === 'json' || this.condition !== 'threshold' || number(v); } },
    unit: { value: 'kW' },
    intervals: { value: '3', validate: optionalNumber },
    count: { value: '3', validate: optionalWhole },
    window: { value: '1h', validate: (v: string) => ['15m', '1h', '1d'].includes(v) },
    above: { value: '', validate(this: Props, v: string) { return optionalNumber(v) && (this.ruleMode === 'json' || this.condition !== 'window_consumption' || !blank(v) || !blank(this.below)); } },
    below: { value: '', validate: optionalNumber },
    kinds: { value: 'backwards,reset,spike', validate: (v: string) => blank(v) || /^\s*(backwards|reset|spike)(\s*[,;\s]\s*(backwards|reset|spike))*\s*$/.test(v) },
    severity: { value: 'warning', validate: (v: string) => ['info', 'warning', 'critical'].includes(v) },
    delay: { value: '0', validate: optionalWhole },
    clearAfter: { value: '0', validate: optionalWhole },
    hysteresis: { value: '0', validate: optionalNumber },
    holdOff: { value: '300', validate: optionalWhole },
    activeDays: { value: '', validate: (v: string) => blank(v) || /^\s*[1-7](\s*[,;\s]\s*[1-7])*\s*$/.test(v) },
    activeFrom: { value: '', validate: (v: string) => blank(v) || HHMM.test(v) },
    activeTo: { value: '', validate: (v: string) => blank(v) || HHMM.test(v) },
    timeZone: { value: '', validate: validZone },
    interval: { value: '15m', validate: (v: string) => blank(v) || DURATION.test(v) },
    listOutput: { value: false },
    outputs: { value: 1 },
  },
  inputLabels: 'readings, poll results, ack',
  outputLabels(i: number) {
    return i === 0 ? 'transitions' : 'open alarms';
  },
  label() {
    if (this.name) return this.name;
    if (this.ruleMode === 'json') return 'alarm rules';
    return this.ruleName || `alarm: ${this.condition}`;
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
  oneditprepare() {
    const t = this._.bind(this) as (key: string, subs?: Record<string, unknown>) => string;
    const later = () => { if (timer) clearTimeout(timer); timer = setTimeout(() => check(t), 500); };
    let condition = this.condition;
    const show = () => {
      const json = $('#node-input-ruleMode').val() === 'json';
      const next = String($('#node-input-condition').val());
      // A default that belonged to the previous condition follows the new one.
      if ($('#node-input-obis').val() === OBIS_OF[condition] && OBIS_OF[next]) $('#node-input-obis').val(OBIS_OF[next]);
      if ($('#node-input-unit').val() === UNIT_OF[condition] && UNIT_OF[next]) $('#node-input-unit').val(UNIT_OF[next]);
      condition = next;
      $('.ems-alarm-form').toggle(!json);
      $('.ems-alarm-json').toggle(json);
      for (const f of ['obis', 'threshold', 'unit', 'hysteresis', 'intervals', 'count', 'window', 'kinds']) $(`.ems-alarm-${f}`).toggle(!json && ROWS[next].includes(f));
      later();
    };
    editor = RED.editor.createEditor({ id: 'node-input-rules-editor', mode: 'ace/mode/json', value: $('#node-input-rules').val() as string });
    editor.getSession().on('change', later);
    $('#node-input-ruleMode, #node-input-condition').on('change', show);
    $('#node-input-listOutput').on('change', () => $('#node-input-outputs').val($('#node-input-listOutput').is(':checked') ? 2 : 1));
    $('#ems-alarm-dialog').on('change input', 'input, select', later);
    let zone = 'UTC';
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; } catch { /* keep UTC */ }
    $('#node-input-timeZone').attr('placeholder', t('ems-alarm.placeholder.timeZone', { zone }));
    show();
  },
  oneditsave() {
    if (editor) $('#node-input-rules').val(editor.getValue());
    editor?.destroy();
    editor = null;
  },
  oneditcancel() {
    editor?.destroy();
    editor = null;
  },
});
