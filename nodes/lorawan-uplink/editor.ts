import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties { format: string; codec: string; system: string }

const CODECS = ['', 'axioma-qalcosonic-w1', 'milesight-ws52x', 'milesight-em300-di'];

RED.nodes.registerType<Props>('ems-lorawan-uplink', {
  category: 'energy',
  color: '#E2D96E',
  icon: 'font-awesome/fa-wifi',
  paletteLabel: 'lorawan uplink',
  inputs: 1,
  outputs: 1,
  outputLabels: ['readings'],
  defaults: {
    name: { value: '' },
    format: { value: 'auto', validate: (v: string) => ['auto', 'chirpstack', 'tts', 'raw'].includes(v) },
    codec: { value: '', validate: (v: string) => v === undefined || v === '' || /^[a-z0-9-]+(:.+)?$/.test(v) },
    system: { value: '', type: 'ems-system', required: false },
  },
  label() {
    return this.name || 'lorawan uplink';
  },
  labelStyle() {
    return this.name ? 'node_label_italic' : '';
  },
  oneditprepare() {
    const list = $('#node-input-codec-list');
    for (const c of CODECS) $('<option/>').attr('value', c).appendTo(list);
  },
});
