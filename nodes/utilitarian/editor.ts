import type { EditorNodeProperties, EditorRED } from 'node-red';
declare const RED: EditorRED;

interface Props extends EditorNodeProperties { server: string; operation: string; unknown: string; protocol: string; device: string; method: string; path: string }

RED.nodes.registerType<Props>('ems-utilitarian', {
  category: 'energy',
  color: '#A6BBCF',
  icon: 'font-awesome/fa-cloud-upload',
  paletteLabel: 'utilitarian',
  defaults: {
    name: { value: '' },
    server: { value: '', type: 'ems-utilitarian-server', required: true },
    operation: { value: 'push', required: true },
    unknown: { value: 'create' },
    protocol: { value: 'modbus' },
    device: { value: '' },
    method: { value: 'GET' },
    path: { value: '' },
  },
  inputs: 1,
  outputs: 1,
  label() { return this.name || `utilitarian ${this.operation}`; },
  oneditprepare() {
    const show = () => {
      const op = String($('#node-input-operation').val());
      $('.ems-util-push').toggle(op === 'push');
      $('.ems-util-device').toggle(['pull', 'get-device', 'update-device'].includes(op));
      $('.ems-util-request').toggle(op === 'request');
    };
    $('#node-input-operation').on('change', show);
    show();
  },
});
