// The one certificate decoder against an oracle, Node's crypto.X509Certificate (OpenSSL): every certificate
// of the system bundle, a generated set of odd-but-valid certificates (openssl), and real-world test material
// from a Debian package (the CPython test suite's certificates: NUL bytes in names, IDN SANs, big serials)
// decode to the same subject, issuer, serial, validity, SANs and fingerprints.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseCertificate } from '../../server/src/analysis/certificate';
import { RAW } from '../../server/src/analysis/model';
import { ensureDebianPackages } from '../tools/debian.mjs';

const SYSTEM = '/etc/ssl/certs/ca-certificates.crt';
const PYTHON_TESTS = '/usr/lib/python3.11/test';

const pemBlocks = (text: string) => text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
const derOf = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
const hexOf = (colons: string) => colons.replace(/:/g, '').toLowerCase();

/** RFC 4514 / OpenSSL escapes undone: `\,` → `,`, `\c3\a9` → the UTF-8 it spells. */
function unescapeValue(v: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < v.length; i++) {
    if (v[i] === '\\' && /^[0-9a-fA-F]{2}$/.test(v.slice(i + 1, i + 3))) {
      bytes.push(parseInt(v.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (v[i] === '\\' && i + 1 < v.length) bytes.push(...Buffer.from(v[++i], 'utf8'));
    else bytes.push(...Buffer.from(v[i], 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The attribute values of Node's multi-line name (one RDN a line, `+` between values), in DER order. */
function oracleValues(multiline: string): string[] {
  if (!multiline) return [];
  return multiline.split('\n').flatMap((line) => line.split(/(?<!\\) \+ |(?<!\\)\+(?=[A-Za-z0-9.]+=)/)).map((av) => unescapeValue(av.slice(av.indexOf('=') + 1)));
}

/** The same from our model: string values in DER order, as OpenSSL converts them (7-bit and T61 octets as Latin-1). */
function ourValues(c: ReturnType<typeof parseCertificate>, which: 'subject' | 'issuer'): string[] | undefined {
  const name = c[RAW].cert[which];
  if (!name) return undefined;
  return name.rdns.flatMap((rdn) => rdn.map((a) => a.text ?? '#'));
}

/** One SAN list as comparable strings: `dns:…`, `ip:…` (IPv6 expanded), `email:…`, `uri:…`. */
function normaliseIp(ip: string): string {
  if (!isIPv6(ip)) return ip;
  const [head, tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.map((g) => parseInt(g, 16).toString(16)).join(':');
}

function oracleSans(x: X509Certificate): string[] {
  const s = x.subjectAltName;
  if (!s) return [];
  const out: string[] = [];
  // Node quotes entries with special characters as JSON strings: DNS:"a,b".
  for (const m of s.matchAll(/(DNS|IP Address|email|URI):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g)) {
    const value = m[2].startsWith('"') ? JSON.parse(m[2]) : m[2];
    const kind = { DNS: 'dns', 'IP Address': 'ip', email: 'email', URI: 'uri' }[m[1]];
    out.push(`${kind}:${kind === 'ip' ? normaliseIp(value) : value}`);
  }
  return out;
}

function ourSans(c: ReturnType<typeof parseCertificate>): string[] {
  return c.sans
    .filter((s) => ['dns', 'ip', 'email', 'uri'].includes(s.type))
    .map((s) => `${s.type}:${s.type === 'ip' ? normaliseIp(s.value) : s.value.replace(/\\x([0-9a-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)))}`);
}

interface Tally {
  compared: number;
  mismatches: string[];
}

/** Compares one certificate with the oracle; returns the differences. */
function compare(label: string, pem: string): string[] {
  const x = new X509Certificate(pem);
  const c = parseCertificate(derOf(pem));
  const diff: string[] = [];
  const check = (what: string, ours: unknown, theirs: unknown) => {
    if (JSON.stringify(ours) !== JSON.stringify(theirs)) diff.push(`${label}: ${what}: ours ${JSON.stringify(ours)}, oracle ${JSON.stringify(theirs)}`);
  };
  check('sha256', c.sha256, hexOf(x.fingerprint256));
  check('sha1', c.sha1, hexOf(x.fingerprint));
  check('serial', c.serialNumber.replace(/^(-?)0+(?=.)/, '$1'), x.serialNumber.toLowerCase().replace(/^(-?)0+(?=.)/, '$1'));
  check('notBefore', c.notBefore?.getTime(), new Date(x.validFrom).getTime());
  check('notAfter', c.notAfter?.getTime(), new Date(x.validTo).getTime());
  check('subject', ourValues(c, 'subject'), oracleValues(x.subject));
  check('issuer', ourValues(c, 'issuer'), oracleValues(x.issuer));
  check('subjectAltName', ourSans(c), oracleSans(x));
  check('spki', c.spkiSha256, createHash('sha256').update(x.publicKey.export({ format: 'der', type: 'spki' })).digest('hex'));
  check('errors', c.problems.filter((p) => p.severity === 'error').map((p) => `${p.field}: ${p.message}`), []);
  return diff;
}

function run(label: string, pems: string[]): Tally {
  const t: Tally = { compared: 0, mismatches: [] };
  pems.forEach((p, i) => {
    t.compared++;
    t.mismatches.push(...compare(`${label} #${i + 1}`, p));
  });
  return t;
}

describe('decoder against crypto.X509Certificate', () => {
  test('every certificate of the system bundle', () => {
    const pems = pemBlocks(readFileSync(SYSTEM, 'utf8'));
    assert.ok(pems.length > 100, `${pems.length} certificates in ${SYSTEM}`);
    const t = run('system bundle', pems);
    assert.deepEqual(t.mismatches, []);
  });

  const dir = mkdtempSync(join(tmpdir(), 'certops-diff-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a generated set of odd but valid certificates', () => {
    writeFileSync(join(dir, 'pkix.cnf'), '[req]\ndistinguished_name=dn\nstring_mask=pkix\n[dn]\n');
    writeFileSync(join(dir, 'dir.cnf'), '[req]\ndistinguished_name=dn\n[dn]\n[dir_sect]\nCN=Directory Name\nO=Example, Inc.\n');
    const key = (name: string, algo: string[]) => {
      const path = join(dir, `${name}.key`);
      execFileSync('openssl', ['genpkey', ...algo, '-out', path], { stdio: 'pipe' });
      return path;
    };
    const ec = key('ec', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    const keys: Record<string, string> = {
      ec,
      p384: key('p384', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384']),
      p521: key('p521', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521']),
      rsa: key('rsa', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']),
      ed25519: key('ed25519', ['-algorithm', 'ED25519']),
    };
    const cases: [string, string[], string?][] = [
      ['utf8 names', ['-utf8', '-subj', '/CN=Zoë Ünïcode 証明書/O=Société Générale/C=FR']],
      ['bmp names', ['-utf8', '-config', join(dir, 'pkix.cnf'), '-subj', '/CN=Zoë BMP/O=Ωmega']],
      ['multi-valued rdn', ['-multivalue-rdn', '-subj', '/CN=multi+OU=valued+UID=42/O=Example']],
      ['special characters', ['-subj', '/CN=a\\,b\\+c"d<e>f;g=h\\\\i/O= leading space and #hash/OU=trailing space ']],
      ['every san type', ['-config', join(dir, 'dir.cnf'), '-subj', '/CN=sans', '-addext',
        'subjectAltName=DNS:a.example.com,DNS:*.wild.example,IP:192.0.2.1,IP:2001:db8::1,IP:::1,email:ops@example.com,URI:https://example.com/a?b=c,dirName:dir_sect,otherName:1.2.3.4;UTF8:hello,RID:1.2.3.4']],
      ['twenty-octet serial', ['-subj', '/CN=serial', '-set_serial', '0x7fffffffffffffffffffffffffffffffffffffff']],
      ['serial zero', ['-subj', '/CN=zero', '-set_serial', '0']],
      ['negative serial', ['-subj', '/CN=negative', '-set_serial', '-5']],
      ['generalized time after 2049', ['-subj', '/CN=far', '-days', '20000']],
      ['empty subject with critical san', ['-subj', '/', '-addext', 'subjectAltName=critical,DNS:empty.example']],
      ['unknown non-DER extension', ['-subj', '/CN=opaque', '-addext', '1.3.6.1.4.1.11129.2.1.17=DER:ff:00:01:02']],
      ['many extensions', ['-subj', '/CN=exts/DC=example/DC=com/emailAddress=ops@example.com/serialNumber=1234/street=1 Main St/title=Ops', '-addext',
        'authorityInfoAccess=OCSP;URI:http://ocsp.example.com,caIssuers;URI:http://ca.example.com/ca.crt', '-addext',
        'crlDistributionPoints=URI:http://crl.example.com/a.crl,URI:ldap://crl.example.com/cn=x', '-addext', 'certificatePolicies=2.23.140.1.2.1', '-addext',
        'nameConstraints=critical,permitted;DNS:example.com,excluded;IP:10.0.0.0/255.0.0.0', '-addext', 'extendedKeyUsage=serverAuth,clientAuth,1.2.3.4']],
      ['p384 sha384', ['-subj', '/CN=p384', '-sha384'], 'p384'],
      ['p521 sha512', ['-subj', '/CN=p521', '-sha512'], 'p521'],
      ['rsa pss', ['-subj', '/CN=pss', '-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32'], 'rsa'],
      ['rsa sha1', ['-subj', '/CN=sha1', '-sha1'], 'rsa'],
      ['ed25519', ['-subj', '/CN=ed'], 'ed25519'],
    ];
    const pems: string[] = [];
    for (const [name, args, k] of cases) {
      const out = join(dir, `${name.replace(/\W+/g, '-')}.pem`);
      execFileSync('openssl', ['req', '-x509', '-new', '-key', keys[k ?? 'ec'], '-out', out, '-days', '30', ...(args.includes('-config') ? [] : ['-config', '/dev/null']), ...args], { stdio: 'pipe' });
      pems.push(readFileSync(out, 'utf8'));
    }
    const t = run('generated', pems);
    assert.equal(t.compared, cases.length);
    assert.deepEqual(t.mismatches, []);
    // The comparison reads real values on both sides, and would see a difference.
    const utf8 = new X509Certificate(pems[0]);
    assert.deepEqual(oracleValues(utf8.subject), ['Zoë Ünïcode 証明書', 'Société Générale', 'FR']);
    assert.deepEqual(ourValues(parseCertificate(derOf(pems[0])), 'subject'), ['Zoë Ünïcode 証明書', 'Société Générale', 'FR']);
    assert.deepEqual(oracleValues(new X509Certificate(pems[3]).subject), ['a,b+c"d<e>f;g=h\\i', ' leading space and #hash', 'trailing space ']);
    assert.equal(parseCertificate(derOf(pems[7])).serialNumber, '-05');
    assert.deepEqual(ourSans(parseCertificate(derOf(pems[4]))).slice(0, 4), ['dns:a.example.com', 'dns:*.wild.example', 'ip:192.0.2.1', 'ip:2001:db8:0:0:0:0:0:1']);
    assert.ok(compare('self-check', pems[0]).length === 0 && oracleSans(new X509Certificate(pems[4])).length === 7);
  });

  test('real-world test certificates from a Debian package (CPython test suite)', () => {
    ensureDebianPackages([[join(PYTHON_TESTS, 'nullbytecert.pem'), 'libpython3.11-testsuite']]);
    const pems: string[] = [];
    for (const f of readdirSync(PYTHON_TESTS).filter((n) => n.endsWith('.pem')).sort()) {
      for (const p of pemBlocks(readFileSync(join(PYTHON_TESTS, f), 'latin1'))) {
        try {
          new X509Certificate(p);
        } catch {
          // badcert.pem is deliberately broken: the oracle refuses it, so there is nothing to compare (it must not crash us).
          assert.doesNotThrow(() => {
            try {
              parseCertificate(derOf(p));
            } catch (e) {
              assert.ok(e instanceof Error && !/Cannot read|undefined/.test(e.message), e instanceof Error ? e.message : String(e));
            }
          });
          continue;
        }
        pems.push(p);
      }
    }
    assert.ok(pems.length >= 15, `${pems.length} certificates`);
    const t = run('python test suite', pems);
    assert.deepEqual(t.mismatches, []);
  });
});
