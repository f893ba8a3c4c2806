/**
 * Which URLs a journey may call (webhook nodes, the ticketing base URL): anyone with the
 * marketer role writes them, and the Worker must not become their way into a private network.
 * A reason is answered for a URL that must not be called; null for one that may.
 *
 * The address is judged as `new URL` leaves it: the WHATWG parser turns every IPv4 spelling
 * (`2130706433`, `0x7f.1`, `0177.0.0.1`) into dotted decimal and compresses IPv6, so one test of
 * the normal form covers them all.
 *
 * What this cannot see:
 * - A public name whose DNS answers a private address (or changes its answer after the check).
 *   Deployed, that reaches nothing: a Worker's fetch leaves from Cloudflare's network, which
 *   routes to private networks only through a Cloudflare Tunnel bound to the Worker (Workers
 *   VPC, https://developers.cloudflare.com/workers-vpc/), and Cairn binds none. Where Cairn runs
 *   on a host inside a private network (wrangler dev, a self-hosted workerd), it can: keep such a
 *   deployment's egress behind a firewall.
 * - Redirects: callers fetch with `redirect: 'manual'` and take a 3xx as a failure, so a public
 *   URL cannot lead to a private one.
 *
 * Ports: 80, 443 and 1024-65535. The ports below 1024 are other protocols' well-known services
 * (SMTP 25, SSH 22, …), which an HTTP request with a body chosen by the caller should not reach;
 * web services on other ports use high ones. (A deployed Worker sends https to 443 whatever the
 * port says: https://github.com/cloudflare/workers-sdk/issues/1320.)
 */

export interface TargetOptions {
  /**
   * Private, loopback and local names allowed: local development and tests, never production
   * (the caller decides, from CAIRN_WEBHOOK_ALLOW_PRIVATE and CAIRN_ENV).
   */
  allowPrivate?: boolean
}

/** Names that resolve only inside a machine or a local network. */
const LOCAL_SUFFIXES = ['.localhost', '.local', '.internal', '.home.arpa']

/** [network, prefix length]: addresses no webhook receiver should have. */
const PRIVATE_V4: [string, number][] = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // RFC 1918
  ['100.64.0.0', 10], // carrier-grade NAT, RFC 6598
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, where cloud metadata services answer
  ['172.16.0.0', 12], // RFC 1918
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.168.0.0', 16], // RFC 1918
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 3], // multicast (224/4) and reserved (240/4), up to the broadcast address
]

export function refusedTarget(url: string, options: TargetOptions = {}): string | null {
  if (!URL.canParse(url)) return 'not a URL'
  const parsed = new URL(url)
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return `${parsed.protocol.slice(0, -1)} is not http or https`
  }
  if (parsed.username || parsed.password) return 'credentials in the URL'
  const port = parsed.port === '' ? null : Number(parsed.port)
  if (port !== null && port !== 80 && port !== 443 && port < 1024) {
    return `port ${port}: only 80, 443 and 1024-65535`
  }
  if (options.allowPrivate) return null
  return refusedHost(parsed.hostname)
}

function refusedHost(hostname: string): string | null {
  if (hostname.startsWith('[')) return refusedV6(hostname.slice(1, -1))
  if (/^\d+\.\d+\.\d+\.\d+$/.test(hostname)) {
    return privateV4(v4Number(hostname)) ? `${hostname} is a private or reserved address` : null
  }
  // A trailing dot names the same host ("localhost." is localhost).
  const name = hostname.replace(/\.$/, '')
  if (name === 'localhost' || LOCAL_SUFFIXES.some((suffix) => name.endsWith(suffix))) {
    return `${hostname} is a local name`
  }
  // A single label resolves through the host's search domains: inside its network.
  if (!name.includes('.')) return `${hostname} is not a public name (no dot)`
  return null
}

function v4Number(dotted: string): number {
  return dotted.split('.').reduce((n, part) => n * 256 + Number(part), 0)
}

function privateV4(address: number): boolean {
  return PRIVATE_V4.some(([network, bits]) => {
    const size = 2 ** (32 - bits)
    const start = v4Number(network)
    return address >= start && address < start + size
  })
}

/**
 * Global unicast (2000::/3) only, which leaves out ::, ::1, fc00::/7, fe80::/10, fec0::/10 and
 * ff00::/8; an IPv6 address that carries an IPv4 one is judged by that address.
 */
function refusedV6(text: string): string | null {
  const groups = v6Groups(text)
  if (!groups) return `[${text}] is not an IPv6 address`
  const embedded = embeddedV4(groups)
  if (embedded !== null) {
    return privateV4(embedded) ? `[${text}] carries a private or reserved IPv4 address` : null
  }
  const first = groups[0]!
  if ((first & 0xe000) !== 0x2000) return `[${text}] is not a global unicast address`
  // Teredo hides its IPv4 address (obfuscated); nothing legitimate receives webhooks there.
  if (first === 0x2001 && groups[1] === 0) return `[${text}] is a Teredo address`
  return null
}

/**
 * The IPv4 address inside IPv4-mapped (::ffff:a.b.c.d), -translated (::ffff:0:a.b.c.d),
 * -compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d, and the local-use 64:ff9b:1::/48) and 6to4
 * (2002:aabb:ccdd::) addresses; null for any other.
 */
function embeddedV4(groups: number[]): number | null {
  const tail = (high: number, low: number) => groups[high]! * 65536 + groups[low]!
  const zero = (from: number, to: number) => groups.slice(from, to).every((g) => g === 0)
  if (zero(0, 5) && (groups[5] === 0xffff || groups[5] === 0)) return tail(6, 7)
  if (zero(0, 4) && groups[4] === 0xffff && groups[5] === 0) return tail(6, 7)
  if (groups[0] === 0x64 && groups[1] === 0xff9b && (zero(2, 6) || groups[2] === 1)) {
    // Local-use NAT64 translates into networks of its operator's choosing: treat as private.
    return groups[2] === 1 ? 0 : tail(6, 7)
  }
  if (groups[0] === 0x2002) return tail(1, 2)
  return null
}

/** Eight 16-bit groups; null when the text is not IPv6. */
function v6Groups(text: string): number[] | null {
  let body = text
  const tail: number[] = []
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(body)
  if (dotted) {
    const v4 = v4Number(dotted[2]!)
    tail.push(Math.floor(v4 / 65536), v4 % 65536)
    body = dotted[1]!.endsWith('::') ? dotted[1]! : dotted[1]!.slice(0, -1)
  }
  const halves = body.split('::')
  if (halves.length > 2) return null
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)))
  const head = parse(halves[0]!)
  const rest = halves.length === 2 ? parse(halves[1]!) : []
  const missing = 8 - head.length - rest.length - tail.length
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return null
  const groups = [...head, ...Array<number>(missing).fill(0), ...rest, ...tail]
  return groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null
}
