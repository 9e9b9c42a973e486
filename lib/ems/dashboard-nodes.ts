/**
 * Builders for the nodes of the "EMS Dashboard" tab (lib/ems/dashboard-flow.ts and the pages in files of their own,
 * such as lib/ems/dashboard-alarms-flow.ts): function, inject and ems-api nodes and the Dashboard 2.0 widgets the
 * tab uses, each with the tab's defaults.
 */
import { emsTimeZone } from './dashboard';

export type FlowNode = Record<string, unknown> & { id: string; type: string };

export const TAB = 'ems-dash-tab';
export const SYSTEM = 'ems-system-main';
export const STORE = 'ems-store-main';
/** The EMS time zone in a function node: EMS_TIME_ZONE, else (unset, or an unreplaced "${EMS_TIME_ZONE}") the system's, as the EMS does. */
export const TZ = `${emsTimeZone}
const tz = emsTimeZone(env.get('EMS_TIME_ZONE'));`;

/** Column x positions and row y of a node on the tab. */
export const at = (col: number, row: number) => ({ x: 390 + col * 230, y: 60 + row * 60 });

export function fn(id: string, name: string, body: string, wires: string[][], pos: { x: number; y: number }): FlowNode {
  return { id, type: 'function', z: TAB, name, func: body, outputs: wires.length, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], ...pos, wires };
}
export function inject(id: string, name: string, seconds: number, delay: number, topic: string, wires: string[], pos: { x: number; y: number }): FlowNode {
  return { id, type: 'inject', z: TAB, name, props: [{ p: 'topic', vt: 'str' }], repeat: String(seconds), crontab: '', once: true, onceDelay: String(delay), topic, ...pos, wires: [wires] };
}
/** An ems-api node acting as the EMS user of the message's dashboard client (identity "dashboard"), never as admin. */
export function api(id: string, name: string, operation: string, wires: string[], pos: { x: number; y: number }): FlowNode {
  return { id, type: 'ems-api', z: TAB, name, system: SYSTEM, operation, identity: 'dashboard', user: '', ...pos, wires: [wires] };
}
export function text(id: string, group: string, label: string, order: number, pos: { x: number; y: number }, wrapText = false): FlowNode {
  return {
    id, type: 'ui-text', z: TAB, group, order, width: 0, height: 0, name: '', label, format: '{{msg.payload}}', layout: 'row-spread',
    style: false, font: '', fontSize: 16, color: '#717171', wrapText, className: `ems-${id}`, value: 'payload', valueType: 'msg', ...pos, wires: [],
  };
}
/** A table; `maxrows` > 0 pages it by that many rows. */
export function table(id: string, group: string, label: string, order: number, pos: { x: number; y: number }, maxrows = 0): FlowNode {
  return {
    id, type: 'ui-table', z: TAB, group, name: '', label, order, width: 0, height: 0, maxrows, passthru: false, autocols: true, showSearch: false,
    deselect: true, selectionType: 'none', columns: [], mobileBreakpoint: 'sm', mobileBreakpointType: 'defaults', action: 'replace', className: `ems-${id}`, ...pos, wires: [[]],
  };
}
export function dropdown(id: string, group: string, label: string, order: number, topic: string, options: { value: string; label: string }[], wires: string[], pos: { x: number; y: number }): FlowNode {
  return {
    id, type: 'ui-dropdown', z: TAB, group, name: '', label, tooltip: '', order, width: 0, height: 0, passthru: false, multiple: false, chips: false,
    clearable: false, options: options.map((o) => ({ ...o, type: 'str' })), payload: '', topic, topicType: 'str', className: `ems-${id}`, typeIsComboBox: false,
    msgTrigger: 'onChange', ...pos, wires: [wires],
  };
}
export function button(id: string, group: string, label: string, order: number, topic: string, icon: string, tooltip: string, wires: string[], pos: { x: number; y: number }): FlowNode {
  return {
    id, type: 'ui-button', z: TAB, group, name: '', label, order, width: 0, height: 0, emulateClick: false, tooltip,
    color: '', bgcolor: '', className: `ems-${id}`, icon, iconPosition: 'left', payload: topic, payloadType: 'str', topic, topicType: 'str',
    buttonColor: '', textColor: '', iconColor: '', enableClick: true, enablePointerdown: false, pointerdownPayload: '', pointerdownPayloadType: 'str',
    enablePointerup: false, pointerupPayload: '', pointerupPayloadType: 'str', ...pos, wires: [wires],
  };
}
/** A one-line text input that sends its text 300 ms after typing stops, on Enter and when it loses focus. */
export function textInput(id: string, group: string, label: string, order: number, topic: string, tooltip: string, wires: string[], pos: { x: number; y: number }): FlowNode {
  return {
    id, type: 'ui-text-input', z: TAB, group, name: '', label, order, width: 0, height: 0, topic, topicType: 'str', mode: 'text', tooltip, delay: 300,
    passthru: false, sendOnDelay: true, sendOnBlur: true, sendOnEnter: true, className: `ems-${id}`, clearable: false, sendOnClear: false, icon: '',
    iconPosition: 'left', iconInnerPosition: 'inside', ...pos, wires: [wires],
  };
}
/** A notification (a snackbar) of the dashboard: shown to the client a message names only. */
export function notification(id: string, name: string, pos: { x: number; y: number }): FlowNode {
  return {
    id, type: 'ui-notification', z: TAB, ui: 'dash-base', name, position: 'top right', colorDefault: true, color: '', displayTime: '8', showCountdown: true,
    outputs: 1, allowDismiss: true, dismissText: 'Close', allowConfirm: false, confirmText: 'Confirm', raw: false, className: `ems-${id}`, ...pos, wires: [[]],
  };
}
/** A page of the dashboard at /dashboard/<key>, on a 12-column grid (fewer on small screens). */
export function uiPage(key: string, name: string, icon: string, order: number): FlowNode {
  return {
    id: `dash-page-${key}`, type: 'ui-page', name, ui: 'dash-base', path: `/${key}`, icon, layout: 'grid', theme: 'dash-theme', order,
    breakpoints: [{ name: 'Default', px: 0, cols: 3 }, { name: 'Tablet', px: 576, cols: 6 }, { name: 'Small Desktop', px: 768, cols: 9 }, { name: 'Desktop', px: 1024, cols: 12 }],
    className: '', visible: 'true', disabled: 'false',
  };
}
/** A group (titled) of the page `page` (its key), `width` columns wide. */
export function uiGroup(id: string, name: string, page: string, width: number, order: number): FlowNode {
  return { id, type: 'ui-group', name, page: `dash-page-${page}`, width, height: 1, order, showTitle: true, className: '', visible: 'true', disabled: 'false', groupType: 'default' };
}
