/**
 * The networks meters may be polled in (EMS_POLL_NETWORKS): comma-separated CIDRs, IPv4 and IPv6.
 * The default allows loopback, the private ranges and link-local, so an operator cannot point a
 * meter (a HEX meter answers whatever the peer sends) at hosts on the internet:
 *   127.0.0.0/8, ::1/128, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7, 169.254.0.0/16, fe80::/10
 * A definition whose ip_address is an IP outside is refused; a host name is resolved at poll time and
 * the poll fails when any of its addresses is outside.
 */
import net from 'node:net';

export const DEFAULT_POLL_NETWORKS = '127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7,169.254.0.0/16,fe80::/10';

export interface PollNetwork {
  /** The CIDR as given. */
  text: string;
  family: 4 | 6;
  base: bigint;
  prefix: number;
}

function v4(ip: string): bigint {
  return ip.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function v6(ip: string): bigint {
  let s = ip;
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  let tailBits: bigint | null = null;
  if (tail) {
    tailBits = v4(tail[1]);
    s = s.slice(0, -tail[1].length) + '0:0';
  }
  const [head, rest] = s.split('::');
  const h = head ? head.split(':') : [];
  const r = rest === undefined ? [] : rest ? rest.split(':') : [];
  const groups = rest === undefined ? h : [...h, ...Array(8 - h.length - r.length).fill('0'), ...r];
  let n = groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
  if (tailBits !== null) n = (n & ~0xffffffffn) | tailBits;
  return n;
}

/** An IP literal as family and number; null when `ip` is not one. IPv4-mapped IPv6 (::ffff:a.b.c.d) counts as IPv4. */
export function parseIp(ip: string): { family: 4 | 6; value: bigint } | null {
  const s = ip.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const family = net.isIP(s);
  if (family === 4) return { family: 4, value: v4(s) };
  if (family === 6) {
    const value = v6(s);
    if (value >> 32n === 0xffffn) return { family: 4, value: value & 0xffffffffn };
    return { family: 6, value };
  }
  return null;
}

/** Parses EMS_POLL_NETWORKS (undefined or blank = the default); throws naming the bad entry. */
export function parsePollNetworks(text: string | undefined): PollNetwork[] {
  const source = text === undefined || text.trim() === '' ? DEFAULT_POLL_NETWORKS : text;
  return source.split(',').map((e) => e.trim()).filter((e) => e !== '').map((entry) => {
    const m = /^([^/]+)\/(\d{1,3})$/.exec(entry);
    const ip = m ? parseIp(m[1]) : null;
    const prefix = m ? Number(m[2]) : NaN;
    if (!ip || prefix > (ip.family === 4 ? 32 : 128)) {
      throw new Error(`EMS_POLL_NETWORKS: "${entry}" is not a network in CIDR form (e.g. 192.168.0.0/16 or fd00::/8)`);
    }
    const bits = ip.family === 4 ? 32 : 128;
    const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
    return { text: entry, family: ip.family, base: ip.value & mask, prefix };
  });
}

/** True when `ip` (an IP literal) lies in one of the networks; false for anything else. */
export function isAllowedAddress(ip: string, networks: readonly PollNetwork[]): boolean {
  const a = parseIp(ip);
  if (!a) return false;
  return networks.some((n) => {
    if (n.family !== a.family) return false;
    const bits = n.family === 4 ? 32 : 128;
    const mask = n.prefix === 0 ? 0n : ((1n << BigInt(n.prefix)) - 1n) << BigInt(bits - n.prefix);
    return (a.value & mask) === n.base;
  });
}

/** The networks as EMS_POLL_NETWORKS would list them (for messages). */
export function describeNetworks(networks: readonly PollNetwork[]): string {
  return networks.map((n) => n.text).join(',');
}

/** A serial device path ("/dev/ttyUSB0", "COM3"), which is no network target. */
export function isSerialPath(address: string): boolean {
  return address.startsWith('/') || /^COM\d+$/i.test(address);
}
