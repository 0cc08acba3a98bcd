import { BlockList, isIP } from 'net';

/**
 * The reverse proxies whose X-Forwarded-For the service believes (config TRUST_PROXY: a comma-separated list of
 * addresses and CIDR ranges, IPv4 or IPv6). Immutable once built.
 */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly entries: readonly string[];

  private constructor(entries: string[]) {
    this.entries = Object.freeze([...entries]);
    for (const e of entries) {
      const [addr, prefix] = e.split('/');
      const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) this.list.addAddress(addr, family);
      else this.list.addSubnet(addr, Number(prefix), family);
    }
  }

  static none(): TrustedProxies {
    return new TrustedProxies([]);
  }

  /** Parses the list; throws an Error naming the first bad entry. */
  static parse(spec: string | undefined): TrustedProxies {
    const entries = (spec ?? '')
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    for (const e of entries) {
      const problem = entryProblem(e);
      if (problem) throw new Error(problem);
    }
    return new TrustedProxies(entries);
  }

  get size(): number {
    return this.entries.length;
  }

  has(address: string): boolean {
    const a = bare(address);
    const family = isIP(a);
    if (!family) return false;
    return this.list.check(a, family === 6 ? 'ipv6' : 'ipv4');
  }

  /**
   * The client's address: the direct peer, unless the peer is a trusted proxy; then X-Forwarded-For is read from
   * the right, skipping trusted proxies, and the right-most untrusted address is the client. Entries to the left of
   * it were written by the client and are ignored. A malformed entry stops the walk at the last trusted hop.
   */
  clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined): string {
    const direct = bare(peer ?? '') || 'unknown';
    if (!this.size || !this.has(direct)) return direct;
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor ?? '')
      .split(',')
      .map((h) => bare(h.trim()))
      .filter(Boolean);
    let client = direct;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i];
      if (!isIP(hop)) return client;
      client = hop;
      if (!this.has(hop)) return hop;
    }
    return client;
  }
}

/** `::ffff:1.2.3.4` (an IPv4 peer on a dual-stack socket) is 1.2.3.4; brackets and a port are dropped. */
function bare(address: string): string {
  let a = address.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
  if (bracketed) a = bracketed[1];
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(a)) a = a.slice(7);
  return a.slice(0, 64);
}

function entryProblem(entry: string): string | undefined {
  const [addr, prefix, extra] = entry.split('/');
  const family = isIP(addr);
  if (!family || extra !== undefined) return `"${entry.slice(0, 60)}" is not an IP address or CIDR range`;
  if (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 6 ? 128 : 32))) return `"${entry.slice(0, 60)}" has a bad prefix length`;
  return undefined;
}
