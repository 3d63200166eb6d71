/**
 * Address helpers for the cluster DNS: canonical forms (so that "fd00::1" and
 * "fd00:0:0:0:0:0:0:1" are one key), reverse-zone names (in-addr.arpa / ip6.arpa) and the
 * dashed forms used in pod and endpoint names (`10-244-0-5`, `fd00--1`), as CoreDNS's
 * kubernetes plugin writes them.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type IPFamily = 4 | 6;

export function ipFamily(ip: string): IPFamily | undefined {
  if (isIPv4(ip)) return 4;
  if (isIPv6(ip)) return 6;
  return undefined;
}

/** The eight 16-bit groups of an IPv6 address (undefined if it is not one). */
function v6Groups(ip: string): number[] | undefined {
  if (!isIPv6(ip)) return undefined;
  let text = ip.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, v4.index) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16);
  }
  const halves = text.split('::');
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length > 1 && halves[1] ? halves[1].split(':') : [];
  const fill = 8 - head.length - tail.length;
  const groups = [...head, ...Array<string>(halves.length > 1 ? fill : 0).fill('0'), ...tail].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => g >= 0 && g <= 0xffff) ? groups : undefined;
}

/**
 * One spelling per address: dotted quad for IPv4, eight full lower-case groups for IPv6.
 * undefined when `ip` is not an address.
 */
export function canonicalIP(ip: string): string | undefined {
  if (isIPv4(ip)) return ip.split('.').map((o) => String(Number(o))).join('.');
  const g = v6Groups(ip);
  return g ? g.map((x) => x.toString(16).padStart(4, '0')).join(':') : undefined;
}

/**
 * The address a reverse name stands for, given the labels below the reverse zone in query
 * order (e.g. ["1","0","96","10"] under in-addr.arpa). undefined when the name is not a
 * complete address (a partial name is an interior node of the reverse tree).
 */
export function reverseLabelsToIP(labels: string[], zone: 'in-addr.arpa' | 'ip6.arpa'): string | undefined {
  if (zone === 'in-addr.arpa') {
    if (labels.length !== 4) return undefined;
    if (!labels.every((l) => /^(0|[1-9]\d{0,2})$/.test(l) && Number(l) <= 255)) return undefined;
    return [...labels].reverse().join('.');
  }
  if (labels.length !== 32 || !labels.every((l) => /^[0-9a-f]$/.test(l))) return undefined;
  const nibbles = [...labels].reverse().join('');
  const groups: string[] = [];
  for (let i = 0; i < 32; i += 4) groups.push(nibbles.slice(i, i + 4));
  return groups.join(':');
}

/** The reverse name (without trailing dot) of an address. */
export function reverseName(ip: string): string | undefined {
  if (isIPv4(ip)) return `${canonicalIP(ip)!.split('.').reverse().join('.')}.in-addr.arpa`;
  const canon = canonicalIP(ip);
  if (!canon) return undefined;
  return `${canon.replace(/:/g, '').split('').reverse().join('.')}.ip6.arpa`;
}

/** `10.244.0.5` → `10-244-0-5`; `fd00::1` → `fd00--1` (CoreDNS's endpoint and pod names). */
export function dashedIP(ip: string): string {
  return ip.toLowerCase().replace(/[.:]/g, '-');
}

/**
 * The address in a dashed pod or endpoint label, or undefined. Four dash-separated decimal
 * octets are IPv4; anything else is tried as IPv6 with dashes for colons.
 */
export function parseDashedIP(label: string): string | undefined {
  const v4 = label.replace(/-/g, '.');
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(v4)) return isIPv4(v4) ? v4 : undefined;
  const v6 = label.replace(/-/g, ':');
  return isIPv6(v6) ? v6 : undefined;
}
