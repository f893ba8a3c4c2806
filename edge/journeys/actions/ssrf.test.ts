import { describe, expect, it } from 'vitest'
import { refusedTarget } from './ssrf'

const refused = (url: string) => refusedTarget(url) !== null

describe('refusedTarget', () => {
  it('lets public http and https URLs through', () => {
    for (const url of [
      'https://hooks.example.com/cairn',
      'http://example.org/path?x=1',
      'https://8.8.8.8/',
      'https://93.184.216.34:8443/hook',
      'https://[2606:4700:4700::1111]/',
      'https://example.com:80/',
      'https://sub.example.co.uk:65535/',
    ]) {
      expect(refusedTarget(url), url).toBeNull()
    }
  })

  it('refuses what is not an http(s) URL, and credentials in one', () => {
    expect(refusedTarget('not a url')).toBe('not a URL')
    expect(refusedTarget('ftp://example.com/')).toBe('ftp is not http or https')
    expect(refusedTarget('file:///etc/passwd')).toBe('file is not http or https')
    expect(refusedTarget('gopher://example.com:70/')).toBe('gopher is not http or https')
    expect(refusedTarget('https://user:pass@example.com/')).toBe('credentials in the URL')
    expect(refusedTarget('https://user@example.com/')).toBe('credentials in the URL')
  })

  it('refuses the ports below 1024 other than 80 and 443', () => {
    expect(refusedTarget('http://example.com:25/')).toBe('port 25: only 80, 443 and 1024-65535')
    expect(refused('https://example.com:22/')).toBe(true)
    expect(refused('https://example.com:1023/')).toBe(true)
    expect(refused('https://example.com:1024/')).toBe(false)
    expect(refused('http://example.com:443/')).toBe(false)
  })

  it('refuses local names, trailing dot or not', () => {
    for (const url of [
      'http://localhost/',
      'http://LOCALHOST:8787/',
      'http://localhost./',
      'http://api.localhost/',
      'http://printer.local/',
      'http://metadata.google.internal/computeMetadata/v1/',
      'http://router.home.arpa/',
      'http://intranet/',
    ]) {
      expect(refused(url), url).toBe(true)
    }
    expect(refused('https://localhost.example.com/')).toBe(false)
    expect(refused('https://internal.example.com/')).toBe(false)
  })

  it('refuses every private, loopback, link-local and reserved IPv4 range, edges included', () => {
    const inside = [
      '0.0.0.0',
      '0.255.255.255',
      '10.0.0.1',
      '10.255.255.255',
      '100.64.0.0',
      '100.127.255.255',
      '127.0.0.1',
      '127.1.2.3',
      '169.254.169.254',
      '172.16.0.1',
      '172.31.255.255',
      '192.0.0.8',
      '192.168.1.1',
      '198.18.0.1',
      '198.19.255.255',
      '224.0.0.1',
      '239.255.255.250',
      '240.0.0.1',
      '255.255.255.255',
    ]
    for (const address of inside) expect(refused(`http://${address}/`), address).toBe(true)
    const outside = [
      '1.1.1.1',
      '9.255.255.255',
      '11.0.0.0',
      '100.63.255.255',
      '100.128.0.0',
      '126.255.255.255',
      '128.0.0.0',
      '169.253.255.255',
      '169.255.0.0',
      '172.15.255.255',
      '172.32.0.0',
      '192.0.1.0',
      '192.167.255.255',
      '192.169.0.0',
      '198.17.255.255',
      '198.20.0.0',
      '223.255.255.255',
    ]
    for (const address of outside) expect(refused(`http://${address}/`), address).toBe(false)
  })

  it('sees through the other ways of writing an IPv4 address', () => {
    for (const url of [
      'http://2130706433/', // 127.0.0.1 as one decimal number
      'http://0x7f.1/',
      'http://0x7f000001/',
      'http://0177.0.0.1/',
      'http://017700000001/',
      'http://127.1/',
      'http://0/',
      'http://0xA9FEA9FE/', // 169.254.169.254
      'http://１２７．０．０．１/', // fullwidth digits and dots, mapped by IDNA
    ]) {
      expect(refusedTarget(url), url).toMatch(/private or reserved/)
    }
    expect(refusedTarget('http://134744072/')).toBeNull() // 8.8.8.8
  })

  it('refuses loopback, unspecified, unique-local, link-local and multicast IPv6', () => {
    for (const address of [
      '::1',
      '::',
      '0:0:0:0:0:0:0:1',
      'fc00::1',
      'fd12:3456:789a::1',
      'fe80::1',
      'febf::1',
      'fec0::1',
      'ff02::1',
      'ff05::1:3',
    ]) {
      expect(refused(`http://[${address}]/`), address).toBe(true)
    }
  })

  it('judges an IPv6 address that carries an IPv4 one by that address', () => {
    for (const address of [
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:10.0.0.1',
      '::ffff:169.254.169.254',
      '::ffff:0:192.168.0.1', // IPv4-translated
      '::127.0.0.1', // IPv4-compatible
      '64:ff9b::10.1.2.3', // NAT64
      '64:ff9b::7f00:1',
      '64:ff9b:1::808:808', // local-use NAT64: whatever it carries
      '2002:7f00:1::', // 6to4 around 127.0.0.1
      '2002:c0a8:101::1',
    ]) {
      expect(refused(`http://[${address}]/`), address).toBe(true)
    }
    for (const address of ['::ffff:8.8.8.8', '64:ff9b::1.1.1.1', '2002:808:808::1']) {
      expect(refused(`http://[${address}]/`), address).toBe(false)
    }
  })

  it('refuses Teredo addresses, whose IPv4 address is hidden', () => {
    expect(refusedTarget('http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/')).toMatch(/Teredo/)
    expect(refused('http://[2001:db8::1]/')).toBe(false)
  })

  it('allows private targets when asked, still refusing other schemes, credentials and ports', () => {
    const allow = { allowPrivate: true }
    expect(refusedTarget('http://localhost:8787/hook', allow)).toBeNull()
    expect(refusedTarget('http://127.0.0.1:9999/', allow)).toBeNull()
    expect(refusedTarget('http://[::1]:3000/', allow)).toBeNull()
    expect(refusedTarget('file:///etc/passwd', allow)).not.toBeNull()
    expect(refusedTarget('http://a:b@localhost/', allow)).not.toBeNull()
    expect(refusedTarget('http://localhost:25/', allow)).not.toBeNull()
  })
})
