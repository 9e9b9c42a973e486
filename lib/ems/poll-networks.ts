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
  address: string;
  prefix: number;
}

/** An IP literal (brackets and zone dropped) and its family; null when `ip` is not one. IPv4-mapped IPv6 (::ffff:a.b.c.d) counts as IPv4. */
export function parseIp(ip: string): { family: 4 | 6; address: string } | null {
  const s = ip.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(s);
  if (mapped && net.isIPv4(mapped[1])) return { family: 4, address: mapped[1] };
  const family = net.isIP(s);
  return family === 4 || family === 6 ? { family, address: s } : null;
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
    return { text: entry, family: ip.family, address: ip.address, prefix };
  });
}

/** Node's own subnet matcher (net.BlockList) for a list of networks, built once per list. */
const matchers = new WeakMap<readonly PollNetwork[], net.BlockList>();
function matcherOf(networks: readonly PollNetwork[]): net.BlockList {
  let list = matchers.get(networks);
  if (!list) {
    list = new net.BlockList();
    for (const n of networks) list.addSubnet(n.address, n.prefix, n.family === 4 ? 'ipv4' : 'ipv6');
    matchers.set(networks, list);
  }
  return list;
}

/** True when `ip` (an IP literal) lies in one of the networks; false for anything else. */
export function isAllowedAddress(ip: string, networks: readonly PollNetwork[]): boolean {
  const a = parseIp(ip);
  return a !== null && matcherOf(networks).check(a.address, a.family === 4 ? 'ipv4' : 'ipv6');
}

/** The networks as EMS_POLL_NETWORKS would list them (for messages). */
export function describeNetworks(networks: readonly PollNetwork[]): string {
  return networks.map((n) => n.text).join(',');
}

/** A serial device path ("/dev/ttyUSB0", "COM3"), which is no network target. */
export function isSerialPath(address: string): boolean {
  return address.startsWith('/') || /^COM\d+$/i.test(address);
}
