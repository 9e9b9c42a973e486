/**
 * A simulated IMST iM871A stick on a serial device (one end of a pty pair in tests): answers the host's
 * configuration request as the stick does (DEVMGMT_MSG_SET_CONFIG_RSP) and passes telegrams on as radio
 * link receive indications (L-field and link layer CRCs removed, RSSI and FCS attached).
 */
import {
  encodeHciFrame, encodeHciIndication, HCI_ENDPOINT, HCI_MSG, HciReader, IM871A_BAUD, setConfigLinkMode, type Im871aLinkMode,
} from '../../protocols/wmbus';

interface PortLike {
  isOpen: boolean;
  on(e: 'data', f: (d: Buffer) => void): void;
  on(e: 'error', f: (e: Error) => void): void;
  write(d: Buffer): boolean;
  close(cb?: (e?: Error | null) => void): void;
}

/** Raw RSSI byte of the simulated reception (about -70 dBm). */
const SIM_RSSI_RAW = 105;

export class SimIm871aStick {
  /** The link modes the host asked for, in order. */
  readonly configRequests: Im871aLinkMode[] = [];
  /** Pings, device info and other requests answered. */
  requests = 0;
  private port?: PortLike;

  async open(path: string, baudRate = IM871A_BAUD): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { SerialPort } = require('serialport') as { SerialPort: new (o: object, cb: (e: Error | null) => void) => PortLike };
    this.port = await new Promise<PortLike>((resolve, reject) => {
      const p = new SerialPort({ path, baudRate, dataBits: 8, parity: 'none', stopBits: 1 }, (e) => (e ? reject(new Error(`cannot open ${path}: ${e.message}`)) : resolve(p)));
    });
    this.port.on('error', () => undefined);
    const reader = new HciReader();
    this.port.on('data', (d) => {
      for (const e of reader.push(d)) if (e.frame && e.frame.endpoint === HCI_ENDPOINT.devmgmt) this.answer(e.frame.msgId, setConfigLinkMode(e.frame));
    });
  }

  private answer(msgId: number, mode: Im871aLinkMode | undefined): void {
    this.requests++;
    if (msgId === HCI_MSG.setConfigReq && mode) this.configRequests.push(mode);
    // Every device management request is answered by the message id after it (REQ + 1 = RSP); status 0.
    const payload = msgId === HCI_MSG.pingReq ? Buffer.alloc(0) : Buffer.from([0x00]);
    this.port?.write(encodeHciFrame({ endpoint: HCI_ENDPOINT.devmgmt, msgId: msgId + 1, payload, crc: true }));
  }

  /** Sends one telegram (L-field first, no CRCs) as a receive indication. */
  send(telegram: Buffer): void {
    this.port?.write(encodeHciIndication(telegram, SIM_RSSI_RAW));
  }

  close(): Promise<void> {
    const p = this.port;
    this.port = undefined;
    if (!p || !p.isOpen) return Promise.resolve();
    return new Promise((resolve) => { const t = setTimeout(resolve, 2000); p.close(() => { clearTimeout(t); resolve(); }); });
  }
}
