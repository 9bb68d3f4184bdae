// The CLI reads what the editor reads (embedded PEM in YAML, JSON, .env, Kubernetes Secrets) through the
// same functions, uses the engine's one trust store, escapes what certificates say, goes on past
// unreadable arguments, and keeps its exit-code contract (3 for its own defects, quiet on a closed pipe).
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createServer, rootCertificates } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import * as x509 from '@peculiar/x509';
import { resolveTrust } from '../../server/src/analysis/truststore';
import { untrusted } from '../../server/src/cli/io';
import { languageOfFile, PEM_EXTENSIONS } from '../../server/src/cli/language';
import { main } from '../../server/src/cli/main';
import { validateLine } from '../../server/src/cli/verify-batch';
import { analyzeText } from '../../server/src/services/analyze';
import { computeDiagnostics } from '../../server/src/services/diagnostics';
import { describeBlock } from '../../server/src/services/hover';
import { DEFAULT_SETTINGS } from '../../server/src/services/settings';
import { CA_EXT, leafExt, Pki, ROOT_EXT } from '../fixtures/pki';

const pki = new Pki();
after(() => pki.dispose());
const root = pki.issue('root', { subject: '/CN=Input Test Root', ext: ROOT_EXT, notAfter: 365 * 86400 });
const inter = pki.issue('inter', { subject: '/CN=Input Test Int', issuer: root, ext: CA_EXT, notAfter: 300 * 86400 });
const leaf = pki.issue('leaf', { subject: '/CN=api.example', issuer: inter, ext: leafExt('DNS:api.example'), notAfter: 20 * 86400 });
const file = (name: string, content: string | Buffer) => pki.write(name, content);
const b64 = (s: string) => Buffer.from(s).toString('base64');

async function run(argv: string[], opts: { env?: NodeJS.ProcessEnv; out?: (s: string) => void } = {}) {
  let out = '';
  let err = '';
  const code = await main(argv, opts.out ?? ((s) => void (out += s)), (s) => void (err += s), {
    env: opts.env ?? { SSL_CERT_FILE: root.certPath },
    color: false,
    readStdin: async () => Buffer.alloc(0),
  });
  return { code, out, err };
}

const secret = file(
  'secret.yaml',
  ['apiVersion: v1', 'kind: Secret', 'metadata:', '  name: api-tls', 'type: kubernetes.io/tls', 'data:', `  tls.crt: ${b64(leaf.pem + inter.pem)}`, `  tls.key: ${b64(readFileSync(leaf.keyPath, 'utf8'))}`, ''].join('\n'),
);

describe('the CLI reads what the editor reads', () => {
  test('lint of a Kubernetes Secret gives the diagnostics of the language server, at positions inside the file', async () => {
    const r = await run(['lint', '--json', secret]);
    assert.equal(r.code, 0, r.err);
    const json = JSON.parse(r.out) as { files: { diagnostics: { range: unknown; code: string; message: string }[] }[] };
    const got = json.files[0].diagnostics;
    assert.ok(got.some((d) => d.code === 'cert-expiring'), r.out);
    // The same functions the server calls: analyzeText for the regions, computeDiagnostics for the rest.
    const text = readFileSync(secret, 'utf8');
    const analysis = analyzeText(text, 'yaml', DEFAULT_SETTINGS);
    const expected = computeDiagnostics(analysis, DEFAULT_SETTINGS, { trust: resolveTrust({ env: { SSL_CERT_FILE: root.certPath } }).store });
    assert.deepEqual(
      got.map((d) => [d.range, d.code]),
      expected.filter((d) => d.code !== 'key-permissions').map((d) => [d.range, d.code]),
    );
    // Line 7 (0-based 6) is the tls.crt value, which starts after "  tls.crt: ".
    assert.deepEqual((got[0].range as { start: unknown }).start, { line: 6, character: 11 });
    const text1 = await run(['lint', secret]);
    assert.match(text1.out, /secret\.yaml:7:12 warning cert-expiring CN=api\.example expires/);
  });

  test('inspect shows the certificates of YAML, JSON and .env files; no PEM at all is still one clear line', async () => {
    const json = file('conf.json', JSON.stringify({ tls: { cert: leaf.pem } }, null, 2));
    const env = file('app.env', `TLS_CERT="${leaf.pem.replace(/\n/g, '\\n')}"\n`);
    for (const f of [secret, json, env]) {
      const r = await run(['inspect', f]);
      assert.equal(r.code, 0, `${f}: ${r.err}`);
      assert.match(r.out, /Leaf certificate CN=api\.example/, f);
    }
    const json1 = JSON.parse((await run(['inspect', '--json', secret])).out) as { files: { language: string; blocks: { range: { start: unknown } }[] }[] };
    assert.equal(json1.files[0].language, 'yaml');
    // Both certificates are in the one base64 value of line 7, the second where its base64 begins; the key is on line 8.
    const starts = json1.files[0].blocks.map((b) => b.range.start as { line: number; character: number });
    assert.deepEqual(starts.map((p) => p.line), [6, 6, 7]);
    assert.equal(starts[0].character, 11);
    assert.ok(starts[1].character > 11 + leaf.pem.length, JSON.stringify(starts));
    assert.equal(starts[2].character, 11);
    const empty = file('empty.yaml', 'a: 1\n');
    const r = await run(['inspect', empty]);
    assert.equal(r.code, 2);
    assert.match(r.err, /empty\.yaml: no PEM block in the yaml file and not DER\n$/);
  });

  test('file languages follow package.json and VS Code', () => {
    const pkg = JSON.parse(readFileSync(resolve('package.json'), 'utf8')) as { contributes: { languages: { id: string; extensions: string[] }[] } };
    assert.deepEqual([...PEM_EXTENSIONS].sort(), [...pkg.contributes.languages.find((l) => l.id === 'pem')!.extensions].sort());
    for (const ext of PEM_EXTENSIONS) assert.equal(languageOfFile(`x${ext}`, ''), 'pem');
    assert.equal(languageOfFile('a/values.yml', ''), 'yaml');
    assert.equal(languageOfFile('x.json', ''), 'json');
    assert.equal(languageOfFile('.env', ''), 'dotenv');
    assert.equal(languageOfFile('.env.production', ''), 'dotenv');
    assert.equal(languageOfFile('/etc/ssl/certs/1a2b3c4d.0', '-----BEGIN CERTIFICATE-----\n'), 'pem');
    assert.equal(languageOfFile('notes', 'hello'), 'plaintext');
    assert.equal(extname('x.ca-bundle'), '.ca-bundle');
  });
});

describe('one trust store', () => {
  test('SSL_CERT_FILE, SSL_CERT_DIR (hashed links read once), the platform bundle, else Node roots; extra files after', () => {
    const dir = join(pki.dir, 'certs');
    mkdirSync(dir);
    const rootCopy = pki.write('certs/root.pem', root.pem);
    symlinkSync(rootCopy, join(dir, 'abcd1234.0'));
    pki.write('certs/README', 'not a certificate\n');
    const byDir = resolveTrust({ env: { SSL_CERT_DIR: dir } });
    assert.equal(byDir.base, 'env');
    assert.equal(byDir.store.count, 1);
    assert.equal(byDir.store.description, `SSL_CERT_DIR=${dir} (1 root)`);
    assert.deepEqual(byDir.store.errors, []);

    const both = resolveTrust({ env: { SSL_CERT_FILE: inter.certPath, SSL_CERT_DIR: dir }, extraCAFiles: [leaf.certPath], extraLabel: '--ca' });
    assert.equal(both.store.description, `SSL_CERT_FILE=${inter.certPath} (1 root) + SSL_CERT_DIR=${dir} (1 root) + --ca ${leaf.certPath} (1 root)`);
    assert.equal(both.store.count, 3);

    const platform = resolveTrust({ env: {}, platformBundles: [join(pki.dir, 'missing.crt'), root.certPath] });
    assert.equal(platform.base, 'platform');
    assert.equal(platform.store.description, `system bundle ${root.certPath} (1 root)`);

    const node = resolveTrust({ env: {}, platformBundles: [] });
    assert.equal(node.base, 'node');
    assert.ok(node.store.count > 100 && node.store.count <= rootCertificates.length, node.store.description);
    assert.match(node.store.description, /^Node's bundled Mozilla roots \(\d+ roots\)$/);

    // Resolved once and kept while the named files are unchanged; a changed bundle is read again.
    const bundle = pki.write('bundle.pem', root.pem);
    const first = resolveTrust({ env: { SSL_CERT_FILE: bundle } });
    assert.equal(resolveTrust({ env: { SSL_CERT_FILE: bundle } }).store, first.store);
    pki.write('bundle.pem', root.pem + inter.pem);
    assert.equal(resolveTrust({ env: { SSL_CERT_FILE: bundle } }).store.count, 2);

    const missing = resolveTrust({ env: { SSL_CERT_FILE: join(pki.dir, 'nope.pem') } });
    assert.equal(missing.store.count, 0);
    assert.match(missing.store.errors[0], /nope\.pem: no such file$/);
    // The hover and the chain-incomplete message show why a named file gave no roots.
    const extraMissing = resolveTrust({ env: { SSL_CERT_FILE: root.certPath }, extraCAFiles: [join(pki.dir, 'private-ca.pem')], extraLabel: 'certops.trust.extraCAFiles' });
    assert.equal(extraMissing.store.description, `SSL_CERT_FILE=${root.certPath} (1 root) + certops.trust.extraCAFiles ${join(pki.dir, 'private-ca.pem')} (0 roots; no such file)`);
  });

  test('lint and inspect say which store was used; hover at the top of the chain says it too', async () => {
    const chain = file('chain.pem', leaf.pem + inter.pem);
    const lint = await run(['lint', chain], { env: {} , out: undefined });
    // With no environment the platform bundle (Debian) is used, which does not hold the test root.
    assert.match(lint.out, /chain-incomplete .*trust store \(system bundle \/etc\/ssl\/certs\/ca-certificates\.crt \(\d+ roots\)\)/);
    const ok = await run(['lint', chain, '--ca', root.certPath], { env: {} });
    assert.doesNotMatch(ok.out, /chain-incomplete/);
    const inspect = await run(['inspect', chain], { env: { SSL_CERT_FILE: root.certPath } });
    assert.match(inspect.out, /Trust store +issuer trusted: SSL_CERT_FILE=\S+root\.pem \(1 root\)/);
    assert.match(inspect.out, /\ntrust store: SSL_CERT_FILE=\S+root\.pem \(1 root\)\n$/);
    const json = JSON.parse((await run(['inspect', '--json', chain], { env: { SSL_CERT_FILE: root.certPath } })).out) as { trustStore: { roots: number } };
    assert.equal(json.trustStore.roots, 1);
    const a = analyzeText(readFileSync(chain, 'utf8'), 'pem', DEFAULT_SETTINGS);
    const md = describeBlock(a, a.blocks[1], { trust: resolveTrust({ env: {}, platformBundles: [] }).store });
    assert.match(md, /\| Trust store \| \*\*issuer not found\*\*: Node's bundled Mozilla roots \(\d+ roots\) \|/);
    assert.doesNotMatch(describeBlock(a, a.blocks[0], { trust: resolveTrust({ env: {}, platformBundles: [] }).store }), /Trust store/);
  });

  test('an unreadable SSL_CERT_FILE or --ca is one usage line', async () => {
    const chain = file('chain2.pem', leaf.pem);
    const r = await run(['lint', chain], { env: { SSL_CERT_FILE: join(pki.dir, 'gone.pem') } });
    assert.equal(r.code, 2);
    assert.match(r.err, /^certops lint: \S+gone\.pem: no such file \(named by SSL_CERT_FILE or SSL_CERT_DIR\)\n$/);
    const ca = await run(['inspect', chain, '--ca', pki.dir]);
    assert.equal(ca.code, 2);
    assert.match(ca.err, /is a directory \(named by --ca\)\n$/);
  });
});

describe('what a certificate says cannot drive the terminal', () => {
  const CN = 'evil\x1b[2J\x1b]0;pwned\x07\x00nul\r\nX\x7f\x85\x9b\u202eabc\u2066';
  let evil = '';
  let evilKey = '';
  before(async () => {
    x509.cryptoProvider.set(webcrypto as unknown as Crypto);
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '0a',
      name: new x509.Name([{ '2.5.4.3': [{ utf8String: CN }] }]),
      notBefore: new Date(Date.now() - 86_400_000),
      notAfter: new Date(Date.now() + 3 * 86_400_000),
      keys: keys as CryptoKeyPair,
      signingAlgorithm: alg,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'a\x1b[31mb' }])],
    });
    evil = file('evil.pem', cert.toString('pem'));
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', (keys as CryptoKeyPair).privateKey));
    evilKey = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64')}\n-----END PRIVATE KEY-----\n`;
  });
  // Anything but printable text and the line feeds the CLI itself writes.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

  test('untrusted() makes every control and bidi character visible', () => {
    assert.equal(untrusted(CN), 'evil\\x1B[2J\\x1B]0;pwned\\x07\\x00nul\\x0D\\x0AX\\x7F\\x85\\x9B\\u{202E}abc\\u{2066}');
    assert.equal(untrusted('CN=plain, O=ünïcode'), 'CN=plain, O=ünïcode');
  });

  test('inspect, lint, expiry, verify and match print no raw control character', async () => {
    for (const argv of [['inspect', evil], ['lint', evil], ['expiry', evil], ['verify', evil, '--roots', root.certPath, '--host', 'x\x1bz'], ['match', evil, leaf.keyPath]]) {
      const r = await run(argv);
      assert.ok(r.out.length > 0, argv.join(' '));
      assert.doesNotMatch(r.out, RAW, `${argv[0]}: ${JSON.stringify(r.out)}`);
      assert.doesNotMatch(r.err, RAW, `${argv[0]}: ${JSON.stringify(r.err)}`);
    }
    const inspect = await run(['inspect', evil]);
    assert.match(inspect.out, /evil\\x1B\[2J\\x1B\]0;pwned\\x07\\x00nul\\x0D\\x0AX\\x7F\\x85\\x9B\\u\{202E\}abc/);
    assert.match(inspect.out, /DNS:a\\x1b\[31mb/i);
    // JSON keeps the exact value: JSON.stringify escapes controls itself.
    const json = await run(['expiry', '--json', evil]);
    assert.doesNotMatch(json.out, RAW);
  });

  test('probe prints what a server sends escaped', async () => {
    const server = createServer({ cert: readFileSync(evil), key: evilKey, ALPNProtocols: ['h2'] }, (s) => s.end());
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    try {
      const { port } = server.address() as AddressInfo;
      const r = await run(['probe', `127.0.0.1:${port}`, '--servername', 'evil', '--no-verify', '--timeout', '5']);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /0 CN=evil\\1b\[2J/i);
      assert.doesNotMatch(r.out, RAW, JSON.stringify(r.out));
    } finally {
      await new Promise((res) => server.close(res));
    }
  });

  test('file names with control characters are escaped in errors too', async () => {
    const r = await run(['expiry', join(pki.dir, 'no\x1b[2Jfile.pem')]);
    assert.equal(r.code, 2);
    assert.match(r.err, /no\\x1B\[2Jfile\.pem: no such file/);
  });
});

describe('one bad argument does not stop the others', () => {
  test('expiry, lint and inspect report each unreadable file on stderr, check the rest, and exit 2', async () => {
    const good = file('good.pem', leaf.pem);
    const binary = file('blob.bin', Buffer.from([0x00, 0xff, 0x13, 0x37, 0x42, 0x00, 0x01]));
    for (const command of ['expiry', 'lint', 'inspect']) {
      const r = await run([command, pki.dir, good, binary, join(pki.dir, 'missing.pem')]);
      assert.equal(r.code, 2, `${command}: ${r.err}`);
      const lines = r.err.trimEnd().split('\n');
      assert.equal(lines.length, 3, r.err);
      assert.match(lines[0], new RegExp(`^certops ${command}: \\S+: is a directory$`));
      assert.match(lines[1], /blob\.bin: no PEM block and not DER$/);
      assert.match(lines[2], /missing\.pem: no such file$/);
      assert.match(r.out, /api\.example/, `${command} checked the readable file`);
    }
    const json = JSON.parse((await run(['expiry', '--json', good, pki.dir])).out) as { ok: boolean; certificates: unknown[]; unreadable: { file: string; problem: string }[] };
    assert.equal(json.ok, false);
    assert.equal(json.certificates.length, 1);
    assert.deepEqual(json.unreadable, [{ file: pki.dir, problem: 'is a directory' }]);
  });

  test('negative numbers are read as values and rejected with a clear message', async () => {
    const good = file('good2.pem', leaf.pem);
    for (const [argv, pattern] of [
      [['expiry', good, '--within', '-1'], /^certops expiry: --within: must not be negative, got -1\n$/],
      [['lint', good, '--warning-days', '-5'], /^certops lint: --warning-days: must not be negative, got -5\n$/],
      [['verify', good, '--max-depth', '-2'], /^certops verify: --max-depth: must not be negative, got -2\n$/],
      [['probe', '127.0.0.1:1', '--timeout', '-1'], /^certops probe: --timeout: expected a positive number of seconds, got "-1"\n$/],
      // A mistake Node itself would have thrown on, reported as the user's (exit 2), not as an internal error.
      [['probe', '127.0.0.1:1', '--alpn', 'x'.repeat(300)], /^certops probe: --alpn: a protocol name is at most 255 bytes, got one of 300\n$/],
    ] as const) {
      const r = await run([...argv]);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, pattern);
    }
    assert.equal((await run(['expiry', good, '--within=0'])).code, 0);
    // Date's lenient parser would read "-1" and "5" as dates in 2001.
    for (const at of ['-1', '5', 'May 5']) assert.match((await run(['verify', good, '--roots', root.certPath, '--at', at])).err, /--at: "[^"]+" is not an ISO 8601 time/);
    assert.equal(validateLine(JSON.stringify({ leaf: leaf.pem, at: '5' }), 1, new Date()).errors[0].code, 'bad-input');
  });
});

describe('exit codes', () => {
  test('an internal error is exit 3 with one line asking for a report; the stack only with CERTOPS_DEBUG', async () => {
    const good = file('good3.pem', leaf.pem);
    const boom = () => {
      throw new TypeError('boom');
    };
    const r = await run(['inspect', good], { out: boom });
    assert.equal(r.code, 3);
    assert.match(r.err, /^certops inspect: internal error: boom; please report this as a certops bug \(CERTOPS_DEBUG=1 shows the stack trace\)\n$/);
    const d = await run(['inspect', good], { out: boom, env: { CERTOPS_DEBUG: '1' } });
    assert.equal(d.code, 3);
    assert.match(d.err, /internal error: boom[^\n]*\nTypeError: boom\n\s+at /);
    const help = await run(['--help']);
    assert.match(help.out, /3 an internal error of certops/);
  });

  test('a closed stdout ends dist/cli.js quietly with exit 0', async () => {
    // Enough output to overflow a pipe buffer many times over.
    const big = file('big.pem', (leaf.pem + inter.pem).repeat(150));
    const child = spawn(process.execPath, [resolve('dist/cli.js'), 'inspect', big], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    assert.equal(err, '');
    assert.equal(code, 0);
  });
});

describe('verify --batch takes what verify takes', () => {
  test('purpose and keyUsage, as the options', () => {
    const line = (extra: object) => JSON.stringify({ leaf: leaf.pem, intermediates: [inter.pem], roots: [root.pem], ...extra });
    assert.equal(validateLine(line({ purpose: 'server' }), 1, new Date()).valid, true);
    const client = validateLine(line({ purpose: 'client' }), 1, new Date());
    assert.equal(client.valid, false);
    assert.ok(client.errors.some((e) => e.code === 'eku-mismatch'), JSON.stringify(client));
    assert.equal(validateLine(line({ keyUsage: ['digitalSignature'] }), 1, new Date()).valid, true);
    const ku = validateLine(line({ keyUsage: ['cRLSign'] }), 1, new Date());
    assert.ok(ku.errors.some((e) => e.code === 'key-usage'), JSON.stringify(ku));
    const bad = validateLine(line({ purpose: 'mail', keyUsage: ['x'] }), 3, new Date());
    assert.deepEqual(bad.errors.map((e) => e.code), ['bad-input']);
    assert.match(bad.errors[0].message, /^line 3: "purpose" must be/);
  });

  test('verify --key-usage', async () => {
    const chain = file('chain3.pem', leaf.pem + inter.pem);
    assert.equal((await run(['verify', chain, '--roots', root.certPath, '--key-usage', 'digitalSignature'])).code, 0);
    const r = await run(['verify', chain, '--roots', root.certPath, '--key-usage', 'cRLSign']);
    assert.equal(r.code, 1);
    assert.match(r.out, /key-usage: keyUsage lacks cRLSign/);
    assert.match((await run(['verify', chain, '--key-usage', 'bogus'])).err, /--key-usage: unknown name "bogus"/);
  });
});
