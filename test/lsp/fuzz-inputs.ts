/**
 * Hostile inputs for the fuzz tests, built from a real certificate chain and
 * key with a seeded PRNG, so a failure is reproduced by its seed
 * (CERTOPS_FUZZ_SEED). Shared by the unit fuzz (services called directly) and
 * the LSP fuzz (one server process).
 */
import { Issued, Pki } from '../fixtures/pki';

/** One fuzz input: a document text and the language it is opened as. */
export interface FuzzInput {
  name: string;
  text: string;
  languageId: string;
}

/** The seed CI uses, so that a run is repeatable; `npm run bench` adds more seeds. */
export const DEFAULT_FUZZ_SEED = 20261203;

/** The seed of this run: CERTOPS_FUZZ_SEED when set, else DEFAULT_FUZZ_SEED. */
export function fuzzSeed(): number {
  const env = process.env.CERTOPS_FUZZ_SEED;
  return env !== undefined && /^\d+$/.test(env) ? Number(env) >>> 0 : DEFAULT_FUZZ_SEED;
}

/** mulberry32: small, fast and good enough to pick mutations. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The genuine material the mutations start from. */
export interface FuzzMaterial {
  root: Issued;
  intermediate: Issued;
  leaf: Issued;
  rsaKeyPem: string;
}

/** Generates a chain (EC) and an RSA key in `pki`. */
export function fuzzMaterial(pki: Pki): FuzzMaterial {
  const { root, intermediate, leaf } = pki.chain('fuzz');
  const rsaKeyPem = pki.openssl(['pkey', '-in', pki.key('fuzz-rsa', 'rsa2048')]);
  return { root, intermediate, leaf, rsaKeyPem };
}

const derOf = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
const pemOf = (label: string, der: Buffer | string, width = 64) => {
  const b64 = typeof der === 'string' ? der : der.toString('base64');
  return `-----BEGIN ${label}-----\n${width > 0 ? b64.replace(new RegExp(`.{${width}}`, 'g'), '$&\n').replace(/\n$/, '') : b64}\n-----END ${label}-----\n`;
};

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const tlv = (tag: number, body: Buffer) => Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);

/** Every element's tag offset, body offset and end in a DER buffer, for truncation points. */
function boundaries(der: Buffer): number[] {
  const out = new Set<number>();
  const walk = (start: number, limit: number, depth: number) => {
    for (let off = start; off < limit && depth < 32; ) {
      const tag = der[off];
      let len = der[off + 1];
      let body = off + 2;
      if (len === undefined) return;
      if (len & 0x80) {
        const n = len & 0x7f;
        if (n === 0 || n > 4) return;
        len = 0;
        for (let i = 0; i < n; i++) len = len * 256 + (der[body + i] ?? 0);
        body += n;
      }
      const end = body + len;
      if (end > limit) return;
      out.add(off).add(off + 1).add(body).add(end - 1).add(end);
      if (tag & 0x20) walk(body, end, depth + 1);
      off = end;
    }
  };
  walk(0, der.length, 0);
  return [...out].filter((n) => n >= 0 && n <= der.length).sort((a, b) => a - b);
}

/** A SEQUENCE nested `depth` times around `inner`, with definite lengths. */
export function nestedSequences(depth: number, inner: Buffer = Buffer.alloc(0), tag = 0x30): Buffer {
  // Built inside out in one buffer: recursion or concatenation per level would be quadratic.
  const headers: Buffer[] = [];
  let len = inner.length;
  for (let i = 0; i < depth; i++) {
    const h = Buffer.concat([Buffer.from([tag]), derLength(len)]);
    headers.push(h);
    len += h.length;
  }
  const out = Buffer.alloc(len);
  let at = 0;
  for (let i = headers.length - 1; i >= 0; i--) at += headers[i].copy(out, at);
  inner.copy(out, at);
  return out;
}

const LABELS = ['CERTIFICATE', 'PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'PUBLIC KEY', 'RSA PUBLIC KEY', 'CERTIFICATE REQUEST', 'X509 CRL', 'PKCS7', 'CMS', 'ENCRYPTED PRIVATE KEY', 'OPENSSH PRIVATE KEY', 'EC PARAMETERS', 'DH PARAMETERS', 'TRUSTED CERTIFICATE', 'WHATEVER'];

/**
 * A few hundred hostile documents. `heavy` includes the multi-megabyte ones
 * (a 5 MB base64 line, 100k-deep nesting).
 */
export function fuzzInputs(m: FuzzMaterial, seed: number, opts: { heavy?: boolean } = {}): FuzzInput[] {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const out: FuzzInput[] = [];
  const add = (name: string, text: string, languageId = 'pem') => out.push({ name, text, languageId });
  const leafDer = derOf(m.leaf.pem);
  const keyDers = [derOf(m.leaf.keyPem), derOf(m.rsaKeyPem)];
  const chainPem = m.leaf.pem + m.intermediate.pem + m.root.pem;

  // Truncation at every element boundary of the leaf (and one byte either side), and of the keys at a few.
  for (const n of boundaries(leafDer)) add(`truncated leaf DER at ${n}`, pemOf('CERTIFICATE', leafDer.subarray(0, n)));
  for (const [k, der] of keyDers.entries()) for (const n of boundaries(der).filter(() => rnd() < 0.3)) add(`truncated key ${k} DER at ${n}`, pemOf(pick(['PRIVATE KEY', 'EC PRIVATE KEY', 'RSA PRIVATE KEY']), der.subarray(0, n)));
  // Truncated PEM text of a whole chain.
  for (let i = 0; i < 20; i++) {
    const n = int(chainPem.length);
    add(`truncated chain text at ${n}`, chainPem.slice(0, n));
  }

  // Bit flips in DER, anywhere in the certificate and in the keys; a chain keeps its other certificates intact.
  for (let i = 0; i < 60; i++) {
    const der = Buffer.from(i % 4 === 3 ? pick(keyDers) : leafDer);
    const flips = 1 + int(3);
    for (let f = 0; f < flips; f++) der[int(der.length)] ^= 1 << int(8);
    const label = i % 4 === 3 ? 'PRIVATE KEY' : 'CERTIFICATE';
    add(`bit flips #${i} in ${label}`, pemOf(label, der) + (i % 2 ? m.intermediate.pem : ''));
  }

  // Random DER and random-but-well-formed TLV trees under every label.
  const randomTree = (depth: number): Buffer => {
    if (depth <= 0 || rnd() < 0.3) return tlv(pick([0x02, 0x03, 0x04, 0x05, 0x06, 0x0c, 0x13, 0x17, 0x18, 0x80, 0x81, 0x86]), bytes(int(40)));
    const kids = Array.from({ length: 1 + int(4) }, () => randomTree(depth - 1));
    return tlv(pick([0x30, 0x31, 0xa0, 0xa1, 0xa3]), Buffer.concat(kids));
  };
  for (const label of LABELS) {
    add(`random bytes as ${label}`, pemOf(label, bytes(int(2000))));
    add(`random TLV tree as ${label}`, pemOf(label, randomTree(6)));
  }

  // Length fields claiming huge sizes: the outer one, and inner ones of the leaf.
  const hugeLengths = [[0x84, 0xff, 0xff, 0xff, 0xff], [0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0x80], [0xff], [0x84, 0x7f, 0xff, 0xff, 0xff], [0x83, 0x00, 0x00, 0x00]];
  for (const [i, len] of hugeLengths.entries()) {
    add(`huge outer length #${i}`, pemOf('CERTIFICATE', Buffer.concat([Buffer.from([0x30, ...len]), leafDer.subarray(4)])));
    const inner = boundaries(leafDer).filter((b) => leafDer[b] === 0x30 || leafDer[b] === 0x02);
    const at = pick(inner.filter((b) => b > 4 && b < leafDer.length - 2));
    add(`huge inner length #${i} at ${at}`, pemOf('CERTIFICATE', Buffer.concat([leafDer.subarray(0, at + 1), Buffer.from(len), leafDer.subarray(at + 2)])));
    add(`huge length #${i} as a key`, pemOf('PRIVATE KEY', Buffer.concat([Buffer.from([0x30, ...len]), keyDers[0].subarray(2)])));
  }

  // PEM-level damage.
  add('BEGIN without END', m.leaf.pem.replace(/-----END[^\n]*\n/, ''));
  add('END without BEGIN', m.leaf.pem.replace(/-----BEGIN[^\n]*\n/, ''));
  add('mismatched labels', m.leaf.pem.replace('END CERTIFICATE', 'END PRIVATE KEY'));
  add('nested BEGIN', m.leaf.pem.replace(/\n/, `\n${m.intermediate.pem}`));
  add('thousands of BEGIN lines', '-----BEGIN CERTIFICATE-----\n'.repeat(5000));
  // Regressions: the scanner took minutes on these (every marker re-read the whole line; every BEGIN re-searched the text for an END).
  add('one line with 50,000 BEGIN markers', 'x-----BEGIN '.repeat(50_000));
  add('a BEGIN line, then a line of 50,000 markers', '-----BEGIN X-----\n' + '-----BEGIN '.repeat(50_000) + '\n-----END X-----\n');
  add('20,000 BEGIN lines, then an END far below', '-----BEGIN CERTIFICATE-----\n'.repeat(20_000) + 'x\n'.repeat(20_000) + '-----END CERTIFICATE-----\n');
  add('thousands of BEGIN/END pairs', '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n'.repeat(3000));
  add('two thousand copies of one certificate', m.leaf.pem.repeat(2000));
  add('a thousand copies of the chain', chainPem.repeat(1000));
  add('headers only', '-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,ZZZZ\n' + 'X-A: b\n'.repeat(5000) + '-----END RSA PRIVATE KEY-----\n');
  add('label of 100k characters', `-----BEGIN ${'A'.repeat(100_000)}-----\nAAAA\n-----END ${'A'.repeat(100_000)}-----\n`);
  add('100k dashes', '-'.repeat(100_000));
  add('CR-only line ends', chainPem.replace(/\n/g, '\r'));
  add('BOM and CRLF', '\ufeff' + chainPem.replace(/\n/g, '\r\n'));
  add('NUL bytes inside the body', m.leaf.pem.replace(/(.{10})/g, '$1\0'));
  add('NUL bytes everywhere', '\0'.repeat(10_000) + m.leaf.pem + '\0'.repeat(100));
  add('lone surrogates in the body', m.leaf.pem.replace(/A/g, '\ud800'));
  add('lone surrogates in the label and text', `\udc00-----BEGIN CERT\ud800IFICATE-----\n${derOf(m.leaf.pem).toString('base64')}\n-----END CERT\ud800IFICATE-----\n\udfff`);
  add('reversed surrogate pair', '\udc00\ud800'.repeat(1000) + chainPem);
  for (let i = 0; i < 40; i++) {
    // Character-level mutations of the chain text: insert, delete, replace, duplicate a line.
    const lines = chainPem.split('\n');
    for (let k = 0; k < 1 + int(5); k++) {
      const l = int(lines.length);
      const op = int(4);
      if (op === 0) lines.splice(l, 1);
      else if (op === 1) lines.splice(l, 0, lines[int(lines.length)]);
      else if (op === 2) lines[l] = (lines[l] ?? '').slice(0, int(70)) + pick(['=', '-', '\0', '\ud800', ' ', '!', '-----', ':']) + (lines[l] ?? '').slice(int(70));
      else lines[l] = pick(['-----BEGIN CERTIFICATE-----', '-----END CERTIFICATE-----', 'Proc-Type: 4,ENCRYPTED', '', '====']);
    }
    add(`mutated chain text #${i}`, lines.join(pick(['\n', '\r\n'])));
  }

  // Embedded forms with damaged content.
  const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
  add('secret with truncated base64', `data:\n  tls.crt: ${b64(m.leaf.pem).slice(0, 301)}\n`, 'yaml');
  add('secret with base64 of bit-flipped DER', `data:\n  tls.crt: ${b64(pemOf('CERTIFICATE', Buffer.from(leafDer).fill(0x41, 100, 110)))}\n`, 'yaml');
  add('secret with base64 of a chain repeated', `data:\n  ca.crt: ${b64(chainPem.repeat(50))}\n`, 'yaml');
  add('yaml with unclosed quote', `a: "${m.leaf.pem.replace(/\n/g, '\\n')}\n`, 'yaml');
  add('yaml with a bad escape', `a: "-----BEGIN CERTIFICATE-----\\x\\u12\\U0011FFFF\\n"`, 'yaml');
  add('yaml with tabs and anchors', `a: &x !!binary |\n\t${b64(m.leaf.pem)}\nb: *x\nc: !!str ${b64(m.leaf.pem)}\n`, 'yaml');
  add('yaml with 5,000 nested flow sequences', '['.repeat(5000) + JSON.stringify(m.leaf.pem) + ']'.repeat(5000), 'yaml');
  add('yaml with 50,000 sequence indicators on a line', '- '.repeat(50_000) + b64(m.leaf.pem) + '\n', 'yaml');
  add('yaml with a thousand documents', `---\nc: ${b64(m.leaf.pem)}\n`.repeat(1000), 'yaml');
  add('json with a lone surrogate escape', `{"c": "${m.leaf.pem.replace(/\n/g, '\\n').replace('MII', '\\ud800MII')}"}`, 'json');
  add('json with an unterminated string', `{"c": "${m.leaf.pem.replace(/\n/g, '\\n')}`, 'json');
  add('json with 100k nested arrays', '['.repeat(100_000) + JSON.stringify(m.leaf.pem) + ']'.repeat(100_000), 'json');
  add('jsonc with an unclosed comment', `{"c": ${JSON.stringify(m.leaf.pem)} /* `, 'jsonc');
  add('dotenv with an unterminated quote', `A="${m.leaf.pem}`, 'dotenv');
  add('dotenv with a trailing backslash', `A="-----BEGIN CERTIFICATE-----\\`, 'dotenv');
  add('dotenv with ten thousand assignments', `K=${b64(m.leaf.pem)}\n`.repeat(10_000), 'dotenv');
  add('plaintext with escaped PEM mutated', `x="${m.leaf.pem.replace(/\n/g, '\\n').slice(0, 400)}\\`, 'plaintext');
  add('plaintext of base64 words', `LS0tLS1CRUdJT ${'LS0tLS1CRUdJTiBD '.repeat(5000)}`, 'plaintext');
  for (let i = 0; i < 20; i++) {
    const lang = pick(['yaml', 'json', 'dotenv', 'plaintext', 'jsonc']);
    const pem = pick([m.leaf.pem, m.leaf.keyPem, m.rsaKeyPem, chainPem]);
    const damaged = pemOf(pick(LABELS), bytes(int(600)));
    const body = pick([pem, damaged, pem.slice(0, int(pem.length))]);
    const text =
      lang === 'yaml' ? `k${i}: ${pick([b64(body), JSON.stringify(body)])}\n` :
      lang === 'dotenv' ? `K${i}="${body}"\n` :
      JSON.stringify({ [`k${i}`]: pick([body, b64(body)]) });
    add(`embedded random #${i} (${lang})`, text, lang);
  }

  if (opts.heavy) {
    // Deep nesting: 100k SEQUENCEs under several labels, and inside a real certificate's extensions slot.
    // 50,000 broken blocks already make 100,000 diagnostics (23 MB of JSON) for the server to send.
    add('50,000 BEGIN lines', '-----BEGIN CERTIFICATE-----\n'.repeat(50_000));
    add('100k nested SEQUENCEs as CERTIFICATE', pemOf('CERTIFICATE', nestedSequences(100_000)));
    add('100k nested SEQUENCEs as PRIVATE KEY', pemOf('PRIVATE KEY', nestedSequences(100_000, tlv(0x02, Buffer.from([0])))));
    add('100k nested SETs as PKCS7', pemOf('PKCS7', nestedSequences(100_000, Buffer.alloc(0), 0x31)));
    add('100k nested [0] as CRL', pemOf('X509 CRL', nestedSequences(100_000, Buffer.alloc(0), 0xa0)));
    add('100k nested SEQUENCEs as CSR', pemOf('CERTIFICATE REQUEST', nestedSequences(100_000)));
    add('100k nested SEQUENCEs in base64 in a Secret', `data:\n  tls.crt: ${b64(pemOf('CERTIFICATE', nestedSequences(100_000)))}\n`, 'yaml');
    // One 5 MB base64 line: random bytes under a label, and a certificate padded to that size.
    const big = bytes(3_750_000).toString('base64');
    add('5 MB base64 line as CERTIFICATE', pemOf('CERTIFICATE', big, 0));
    add('5 MB base64 line without PEM armour', big);
    add('5 MB base64 of a certificate followed by garbage', pemOf('CERTIFICATE', Buffer.concat([leafDer, bytes(3_700_000)]), 0));
    add('5 MB base64 value in a Secret', `data:\n  tls.crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg${big}\n`, 'yaml');
    add('5 MB escaped JSON string', `{"c": "-----BEGIN CERTIFICATE-----\\n${big}\\n-----END CERTIFICATE-----\\n"}`, 'json');
  }
  return out;
}
