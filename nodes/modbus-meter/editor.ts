import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties {
  client: string; meterId: string; unit: string; profile: string; customProfile: string;
  ctRatio: string; vtRatio: string; interval: string;
}

const positiveOrEmpty = (v: string) => v === '' || (Number.isFinite(Number(v)) && Number(v) > 0);

function validJson(v: string): boolean {
  try {
    return typeof JSON.parse(v) === 'object';
  } catch {
    return false;
  }
}

RED.nodes.registerType<Props>('ems-modbus-meter', {
  category: 'energy',
  color: '#A6BBCF',
  icon: 'font-awesome/fa-tachometer',
  paletteLabel: 'modbus meter',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    client: { value: '', type: 'ems-modbus-client', required: true },
    meterId: { value: '' },
    unit: { value: '1', required: true, validate: (v: string) => /^\d+$/.test(v) && Number(v) <= 255 },
    profile: { value: 'eastron-sdm630', required: true },
    customProfile: {
      value: '',
      validate(this: Props, v: string) { return $('#node-input-profile').val() !== 'custom' && this.profile !== 'custom' ? true : validJson(v); },
    },
    ctRatio: { value: '1', validate: positiveOrEmpty },
    vtRatio: { value: '1', validate: positiveOrEmpty },
    interval: { value: '0', validate: (v: string) => v === '' || (Number.isFinite(Number(v)) && Number(v) >= 0) },
  },
  label() {
    return this.name || this.meterId || 'modbus meter';
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
  oneditprepare() {
    const select = $('#node-input-profile');
    const current = this.profile;
    const showCustom = () => $('.ems-modbus-custom').toggle(select.val() === 'custom');
    $.getJSON('ems-modbus/profiles', (profiles: { id: string; manufacturer: string; model: string; error?: string }[]) => {
      select.empty();
      for (const p of profiles) {
        const option = $('<option>').val(p.id).appendTo(select);
        if (p.error) option.text(`${p.id}: ${p.error}`).prop('disabled', true);
        else option.text(`${p.manufacturer} ${p.model} (${p.id})`);
      }
      $('<option>').val('custom').text(this._('ems-modbus-meter.label.customMap')).appendTo(select);
      select.val(current);
      if (select.val() !== current) $('<option>').val(current).text(current).appendTo(select).parent().val(current);
      showCustom();
    });
    select.on('change', showCustom);
    $('#node-input-customProfile').typedInput({ types: ['json'] });
    showCustom();
  },
});
