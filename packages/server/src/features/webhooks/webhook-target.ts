import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** Why an address is not a public webhook target. */
export type NonPublicKind =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'shared (CGNAT)'
  | 'link-local'
  | 'unique-local'
  | 'multicast'
  | 'broadcast'
  | 'reserved';

/** One resolved address of a host name. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all its addresses (the system resolver in production; tests inject their own). */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** Where webhooks may be sent: the operator's switch and how names are resolved at delivery. */
export interface WebhookTargetPolicy {
  /** `smartlic server --webhook-allow-private`: loopback, private, link-local… targets are allowed. */
  allowPrivate: boolean;
  resolve: HostResolver;
}

/** The system resolver (getaddrinfo), every address of the name. */
export const systemResolver: HostResolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

/** Ranges that are not the public internet; the first that matches names the kind. */
const RANGES: ReadonlyArray<[NonPublicKind, 'ipv4' | 'ipv6', string, number]> = [
  ['unspecified', 'ipv4', '0.0.0.0', 8], // "this network"
  ['loopback', 'ipv4', '127.0.0.0', 8],
  ['private', 'ipv4', '10.0.0.0', 8],
  ['private', 'ipv4', '172.16.0.0', 12],
  ['private', 'ipv4', '192.168.0.0', 16],
  ['shared (CGNAT)', 'ipv4', '100.64.0.0', 10],
  ['link-local', 'ipv4', '169.254.0.0', 16], // cloud metadata (169.254.169.254) included
  ['reserved', 'ipv4', '192.0.0.0', 24], // IETF protocol assignments
  ['reserved', 'ipv4', '192.0.2.0', 24], // documentation
  ['reserved', 'ipv4', '198.18.0.0', 15], // benchmarking
  ['reserved', 'ipv4', '198.51.100.0', 24], // documentation
  ['reserved', 'ipv4', '203.0.113.0', 24], // documentation
  ['multicast', 'ipv4', '224.0.0.0', 4],
  ['broadcast', 'ipv4', '255.255.255.255', 32],
  ['reserved', 'ipv4', '240.0.0.0', 4],
  ['unspecified', 'ipv6', '::', 128],
  ['loopback', 'ipv6', '::1', 128],
  ['reserved', 'ipv6', '::', 96], // IPv4-compatible (deprecated)
  ['reserved', 'ipv6', '100::', 64], // discard
  ['private', 'ipv6', '64:ff9b:1::', 48], // local-use NAT64
  ['reserved', 'ipv6', '2001:db8::', 32], // documentation
  ['unique-local', 'ipv6', 'fc00::', 7],
  ['link-local', 'ipv6', 'fe80::', 10],
  ['private', 'ipv6', 'fec0::', 10], // site-local (deprecated)
  ['multicast', 'ipv6', 'ff00::', 8],
];

const LISTS: ReadonlyArray<[NonPublicKind, 'ipv4' | 'ipv6', BlockList]> = RANGES.map(([kind, type, net, prefix]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, type);
  return [kind, type, list];
});

/**
 * What kind of non-public address `address` (an IPv4 or IPv6 literal, brackets and zone
 * allowed) is, or null when it is a public address. IPv6 forms that carry an IPv4 address
 * (IPv4-mapped `::ffff:a.b.c.d`, IPv4-translated `::ffff:0:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by it.
 * Anything that is not an IP address counts as `reserved`.
 */
export function classifyAddress(address: string): NonPublicKind | null {
  const bare = address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) return 'reserved';
  if (family === 6) {
    const embedded = embeddedIpv4(bare);
    if (embedded !== null) return classifyAddress(embedded);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const [kind, listType, list] of LISTS) {
    if (listType === type && list.check(bare, type)) return kind;
  }
  return null;
}

/** The IPv4 address inside an IPv4-mapped, NAT64 (well-known prefix) or 6to4 IPv6 address. */
function embeddedIpv4(address: string): string | null {
  const g = ipv6Groups(address);
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && g[5] === 0xffff) return v4(g[6]!, g[7]!); // ::ffff:a.b.c.d (IPv4-mapped)
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return v4(g[6]!, g[7]!); // ::ffff:0:a.b.c.d (translated)
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return v4(g[6]!, g[7]!); // 64:ff9b::a.b.c.d
  if (g[0] === 0x2002) return v4(g[1]!, g[2]!); // 2002:aabb:ccdd::/48
  return null;
}

/** The eight 16-bit groups of a valid IPv6 literal (a dotted IPv4 tail allowed). */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((h) => Number.parseInt(h, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** Names that always mean this machine (RFC 6761). */
function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/** The host of a URL as an address or name: brackets of an IPv6 literal removed. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** How the creation refusal and the delivery refusal end. */
const SWITCH_HINT = 'webhooks may only reach public addresses unless the server runs with --webhook-allow-private';

/**
 * Why a webhook URL may not be added, or null when it may: user:password@ credentials are
 * always refused; a host that is a non-public IP literal or `localhost` is refused unless
 * the operator allowed private targets. (Host names are checked again, against what they
 * resolve to, at every delivery.)
 */
export function webhookUrlRefusal(url: string, allowPrivate: boolean): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'The webhook URL is not a valid URL.';
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return 'The webhook URL must not carry credentials (user:password@): receivers authenticate deliveries by their X-Smartlic-Signature, made with the webhook secret.';
  }
  if (allowPrivate) return null;
  const host = hostOf(parsed);
  const kind = isIP(host) === 0 ? (isLocalhostName(host) ? 'loopback' : null) : classifyAddress(host);
  return kind === null ? null : `The webhook URL points at ${host}, a ${kind} address: ${SWITCH_HINT}.`;
}

/** Where a delivery may connect: the vetted address, or why there is none. */
export type VettedTarget = { ok: true; address: ResolvedAddress } | { ok: false; error: string };

/**
 * Resolves the host of `url` (an IP literal stands for itself) and, unless private targets
 * are allowed, refuses it when any of its addresses is not public. The caller connects to
 * the returned address only, so a name cannot resolve differently between check and connect.
 */
export async function vetWebhookTarget(url: URL, policy: WebhookTargetPolicy): Promise<VettedTarget> {
  const host = hostOf(url);
  const family = isIP(host);
  let addresses: ResolvedAddress[];
  if (family !== 0) addresses = [{ address: host, family: family === 6 ? 6 : 4 }];
  else {
    try {
      addresses = await policy.resolve(host);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      return { ok: false, error: `cannot resolve ${host} (${code})` };
    }
  }
  const [first] = addresses;
  if (!first) return { ok: false, error: `cannot resolve ${host} (no address)` };
  if (!policy.allowPrivate) {
    for (const { address } of addresses) {
      const kind = classifyAddress(address);
      if (kind !== null)
        return { ok: false, error: `refused: ${host} is ${address}, a ${kind} address; ${SWITCH_HINT}` };
    }
  }
  return { ok: true, address: first };
}

/** `url` with any user:password@ replaced by `***@`, for answers and logs (rows stored before credentials were refused). */
export function redactUrlCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === '' && parsed.password === '') return url;
    parsed.username = '***';
    parsed.password = '';
    return parsed.href;
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//***@');
  }
}
