/** Meter control: lorawanMeterApi.setValveState, sendCommand and (not in the seed) queryCommandResult. */
import { fail, formatTime } from '../params';
import type { Handler } from './types';

export const setValveState: Handler = ({ platform, p }) => {
  const a = platform.mustEui(p.devEui()!);
  const state = p.int('valveState', { required: true, min: 0, max: 1 })!;
  const ins = platform.instruction(a.devEui, 'valve', { valveState: state });
  return { errmsg: 'success message', valueId: String(ins.valueId) };
};

/** Commands a meter understands (the seed names only "Obtain administrator"). */
export const COMMANDS = ['Obtain administrator', 'Read meter', 'Synchronize clock', 'Open valve', 'Close valve'];

export const sendCommand: Handler = ({ platform, p }) => {
  const a = platform.mustEui(p.devEui()!);
  const commandStr = p.str('commandStr', true)!;
  if (!COMMANDS.includes(commandStr)) fail(`commandStr ${JSON.stringify(commandStr)} is not one of ${COMMANDS.join(', ')}`);
  const params = p.get('commandParams');
  const kind = /valve/i.test(commandStr) ? 'valve' : 'command';
  const ins = platform.instruction(a.devEui, kind, kind === 'valve' ? { valveState: /open/i.test(commandStr) ? 1 : 0 } : { commandStr, commandParams: params ?? {} });
  return { errmsg: 'success message', valueId: String(ins.valueId) };
};

export const queryCommandResult: Handler = ({ platform, p }) => {
  const id = p.int('valueId', { required: true, min: 1 })!;
  const ins = platform.instructions.get(id) ?? fail(`valueId ${id} is not a known instruction`);
  return { errmsg: 'success message', data: { valueId: id, devEui: ins.devEui, kind: ins.kind, state: ins.state, resultInfo: ins.state === 'pending' ? 'waiting for the next uplink' : ins.state, dateTime: formatTime(ins.done ?? ins.created, platform.offset) } };
};
