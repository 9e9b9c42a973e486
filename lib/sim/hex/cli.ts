/** The ems-sim entry of the HEX responder. */
import fs from 'node:fs';
import { int, list, str, UsageError, type SimulatorEntry } from '../registry';
import { HexSimulator, type HexPair, type HexSimulatorOptions } from './server';
import { parseHex } from '../../protocols/hex/hex';

export interface HexCliOptions {
  host: string;
  port: number;
  sim: HexSimulatorOptions;
}

/** A Modbus RTU meter at unit 1: holding registers 0..1 = 230.5 (float32), the data dictionary's example request. */
export const DEFAULT_HEX_PAIRS: HexPair[] = [
  { request: '010300000002C40B', response: '010304436680006E68' },
];

export const hexCli: SimulatorEntry<HexCliOptions> = {
  name: 'hex',
  description: 'TCP HEX responder: answers configured request -> response frames (a meter behind a GSM/Ethernet converter).',
  options: [
    { name: 'port', type: 'string', arg: 'PORT', description: 'TCP port (0 = any free port)', default: '6211' },
    { name: 'host', type: 'string', arg: 'HOST', description: 'address to listen on', default: '127.0.0.1' },
    { name: 'pair', type: 'string', arg: 'REQ=RESP', multiple: true, description: 'a request and its response in HEX (default: a Modbus RTU read at unit 1)' },
    { name: 'pairs-file', type: 'string', arg: 'FILE', description: 'JSON file [{"request": HEX, "response": HEX}, ...]' },
    { name: 'delay', type: 'string', arg: 'MS', description: 'delay before each answer', default: '0' },
    { name: 'reply-chunk', type: 'string', arg: 'BYTES', description: 'send answers in pieces of this size, 20 ms apart (0 = at once)', default: '0' },
  ],
  help: 'Example:\n  ems-sim hex --pair 010300000002C40B=010304436680006E68 --delay 50',

  parse(values) {
    const pairs: HexPair[] = [];
    for (const p of list(values, 'pair')) {
      const [request, response, ...rest] = p.split('=');
      if (!request || !response || rest.length) throw new UsageError(`--pair: ${JSON.stringify(p)} is not REQHEX=RESPHEX`);
      try { parseHex(request); parseHex(response); } catch (err) { throw new UsageError(`--pair: ${(err as Error).message}`); }
      pairs.push({ request, response });
    }
    const file = str(values, 'pairs-file');
    if (file) {
      let data: unknown;
      try { data = JSON.parse(fs.readFileSync(file, 'utf8')); } catch (err) { throw new UsageError(`--pairs-file: ${(err as Error).message}`); }
      if (!Array.isArray(data)) throw new UsageError(`--pairs-file: ${file} must hold a JSON array of {request, response}`);
      for (const x of data as HexPair[]) pairs.push(x);
    }
    const sim: HexSimulatorOptions = {
      pairs: pairs.length ? pairs : DEFAULT_HEX_PAIRS,
      delayMs: int('delay', str(values, 'delay') ?? '0', 0, 600_000, 'milliseconds'),
      replyChunk: int('reply-chunk', str(values, 'reply-chunk') ?? '0', 0, 65536, 'bytes'),
    };
    try { new HexSimulator(sim); } catch (err) { throw new UsageError(`--pairs-file: ${(err as Error).message}`); }
    return { host: str(values, 'host') ?? '127.0.0.1', port: int('port', str(values, 'port') ?? '6211', 0, 65535, 'a port number'), sim };
  },

  async start(o) {
    const sim = new HexSimulator(o.sim);
    const port = await sim.listen(o.port, o.host);
    return { close: () => sim.close(), describe: () => `hex responder listening on ${o.host}:${port}, ${o.sim.pairs.length} request/response pairs` };
  },
};
