/**
 * Opening the device a paced simulator serves: a real tty or one end of a socat pty pair, through
 * serialport (loaded lazily: TCP-only users never need its native bindings).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { describeLine, type LineSettings } from './line';
import type { LinePort } from './paced-line';
import { isPseudoTerminal } from '../../protocols/hex/link';

/** Opens `path` with the line's settings; the error names the path and the settings. */
export async function openLinePort(path: string, line: LineSettings): Promise<LinePort> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { SerialPort } = require('serialport') as typeof import('serialport');
  const port = await new Promise<InstanceType<typeof SerialPort>>((resolve, reject) => {
    const p = new SerialPort({ path, baudRate: line.baudRate, dataBits: line.dataBits, parity: line.parity, stopBits: line.stopBits }, (e) => {
      if (e) reject(new Error(`cannot open serial device ${JSON.stringify(path)} at ${describeLine(line)}: ${e.message}`));
      else resolve(p);
    });
  });
  port.on('error', () => undefined); // a vanished peer: the line just falls silent
  const pty = isPseudoTerminal(path);
  return {
    write: (d) => { if (port.isOpen) port.write(d); },
    onData: (cb) => { port.on('data', cb); },
    setBaud: (baudRate) => new Promise<void>((resolve) => (pty ? resolve() : port.drain(() => port.update({ baudRate }, () => resolve())))),
    close: () => new Promise<void>((resolve) => {
      if (!port.isOpen) return resolve();
      const t = setTimeout(resolve, 2000);
      port.close(() => { clearTimeout(t); resolve(); });
    }),
  };
}

/** Two linked pseudo-terminals made by socat: what is written to one is read from the other. */
export interface PtyPair {
  /** The end for the master (the EMS side). */
  master: string;
  /** The end for the simulator. */
  slave: string;
  close(): Promise<void>;
}

/** Starts `socat pty,link=A pty,link=B` in `dir` and waits (at most 10 s) until both links exist. */
export async function openPtyPair(dir: string, socat = 'socat', names = ['ttyMASTER', 'ttySIM']): Promise<PtyPair> {
  const master = `${dir}/${names[0]}`;
  const slave = `${dir}/${names[1]}`;
  const child: ChildProcess = spawn(socat, ['-d', `pty,raw,echo=0,link=${master}`, `pty,raw,echo=0,link=${slave}`], { stdio: 'ignore' });
  let spawnError: Error | undefined;
  child.on('error', (e) => { spawnError = e; });
  const close = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
  };
  const deadline = Date.now() + 10_000;
  while (!fs.existsSync(master) || !fs.existsSync(slave)) {
    if (spawnError) throw new Error(`cannot start socat (${socat}): ${spawnError.message}`);
    if (child.exitCode !== null) throw new Error(`socat exited with status ${child.exitCode} before creating ${master} and ${slave}`);
    if (Date.now() > deadline) {
      await close();
      throw new Error(`socat did not create ${master} and ${slave} within 10 s`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { master, slave, close };
}
