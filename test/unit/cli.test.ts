// The certops CLI in-process (main with captured output and a pinned clock) on openssl-generated files,
// plus a few runs of the real dist/cli.js. Commands covered here: dispatch, inspect, lint, expiry, match.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { main } from '../../server/src/cli/main';
import { indefinite } from '../fixtures/ber';
import { leafExt, Pki, ROOT_EXT, CA_EXT } from '../fixtures/pki';

const pki = new Pki();
after(() => pki.dispose());
const root = pki.issue('root', { subject: '/CN=CLI Test Root/O=certops', ext: ROOT_EXT, notAfter: 365 * 86400 });
const inter = pki.issue('inter', { subject: '/CN=CLI Test Intermediate', issuer: root, ext: CA_EXT, notAfter: 300 * 86400 });
const leaf = pki.issue('leaf', { subject: '/CN=localhost', issuer: inter, ext: leafExt('DNS:localhost,IP:127.0.0.1,IP:::1'), notAfter: 20 * 86400 });
const file = (name: string, content: string | Buffer) => pki.write(name, content);
const chainPem = file('chain.pem', leaf.pem + inter.pem);
const openssl = (...args: string[]) => pki.openssl(args);
const fingerprint = (path: string) => openssl('x509', '-in', path, '-noout', '-fingerprint', '-sha256').split('=')[1].trim().replace(/:/g, '').toLowerCase();

/** Runs main in-process; `now` defaults to the real clock, as the generated certificates are relative to it. */
async function run(argv: string[], opts: { now?: Date; env?: NodeJS.ProcessEnv; stdin?: string; color?: boolean } = {}) {
  let out = '';
  let err = '';
  const code = await main(argv, (s) => void (out += s), (s) => void (err += s), {
    env: opts.env ?? { SSL_CERT_FILE: root.certPath },
    color: opts.color ?? false,
    ...(opts.now ? { now: () => opts.now as Date } : {}),
    readStdin: async () => Buffer.from(opts.stdin ?? ''),
  });
  return { code, out, err };
}

/** Bad input must give exit 2 and exactly one line on stderr, naming the problem, with no stack trace. */
function assertUsage(r: { code: number; out: string; err: string }, pattern: RegExp) {
  assert.equal(r.code, 2, r.err);
  assert.equal(r.out, '');
  assert.match(r.err, pattern);
  assert.equal(r.err.trimEnd().split('\n').length, 1, r.err);
  assert.doesNotMatch(r.err, /\n\s+at /);
}

describe('dispatch', () => {
  test('--help and --version exit 0; no command exits 2 with the help', async () => {
    const help = await run(['--help']);
    assert.equal(help.code, 0);
    for (const c of ['inspect', 'lint', 'verify', 'match', 'probe', 'expiry']) assert.match(help.out, new RegExp(`^  ${c} `, 'm'));
    assert.match((await run(['--version'])).out, /^\d+\.\d+\.\d+/);
    assert.equal((await run([])).code, 2);
  });

  test('each command has its own help', async () => {
    const r = await run(['verify', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /first is the leaf and the rest are used as intermediates/);
    assert.match((await run(['help', 'probe'])).out, /--expect-sha256/);
  });

  test('unknown commands, unknown options and missing values are usage errors', async () => {
    assertUsage(await run(['frobnicate']), /unknown command "frobnicate"/);
    assertUsage(await run(['inspect', '--bogus', chainPem]), /^certops inspect: Unknown option '--bogus' \(see certops inspect --help\)\n$/);
    assertUsage(await run(['expiry', chainPem, '--within']), /--within <value>' argument missing/);
    assertUsage(await run(['expiry', chainPem, '--within', 'soon']), /--within: expected a whole number/);
    assertUsage(await run(['inspect']), /expected at least one FILE/);
  });
});

describe('inspect', () => {
  test('text shows every block in order with the hover fields and line ranges', async () => {
    const r = await run(['inspect', chainPem]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /2 blocks, certificates form a chain/);
    const first = r.out.indexOf('Leaf certificate CN=localhost');
    const second = r.out.indexOf('Intermediate certificate CN=CLI Test Intermediate');
    assert.ok(first > 0 && second > first, r.out);
    assert.match(r.out, /\[1\] \(lines 1-\d+\)/);
    assert.match(r.out, new RegExp(`SHA-256\\s+${fingerprint(leaf.certPath)}`));
    assert.match(r.out, /SANs\s+DNS:localhost\n\s+IP:127\.0\.0\.1\n\s+IP:::1/);
    assert.doesNotMatch(r.out, /\*\*|<br>|\\\|/, 'no markdown left in terminal output');
  });

  test('--json follows the conventions: hex fingerprints, ISO dates, RFC 4514 names, typed SANs, ranges', async () => {
    const r = await run(['inspect', '--json', chainPem, root.certPath]);
    assert.equal(r.code, 0, r.err);
    const doc = JSON.parse(r.out);
    assert.equal(doc.files.length, 2);
    const [b0, b1] = doc.files[0].blocks;
    assert.equal(b0.label, 'CERTIFICATE');
    assert.equal(b0.certificate.sha256, fingerprint(leaf.certPath));
    assert.match(b0.certificate.sha1, /^[0-9a-f]{40}$/);
    assert.match(b0.certificate.spkiSha256, /^[0-9a-f]{64}$/);
    assert.equal(b0.certificate.notAfter, new Date(b0.certificate.notAfter).toISOString());
    assert.deepEqual(b0.certificate.sans, [{ type: 'dns', value: 'localhost' }, { type: 'ip', value: '127.0.0.1' }, { type: 'ip', value: '::1' }]);
    // openssl's /CN=x/O=y puts CN first in the DER; RFC 4514 writes the last RDN first.
    assert.equal(doc.files[1].blocks[0].certificate.subject, 'O=certops,CN=CLI Test Root');
    assert.deepEqual(b0.range.start, { line: 0, character: 0 });
    assert.equal(b1.range.start.line, b0.range.end.line + 1);
    assert.equal(doc.files[0].chain.mode, 'chain');
    assert.equal(b0.offsets, undefined);
  });

  test('real-world PEM: BOM, CRLF, text around blocks, UTF-16, and DER files', async () => {
    const messy = file('messy.pem', `\ufeffsubject=CN=localhost\r\n${leaf.pem.replace(/\n/g, '\r\n')}trailing junk\r\n`);
    const utf16 = file('utf16.pem', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(inter.pem, 'utf16le')]));
    const der = file('leaf.der', Buffer.from(leaf.der));
    const doc = JSON.parse((await run(['inspect', '--json', messy, utf16, der])).out);
    assert.deepEqual(doc.files.map((f: { blocks: { certificate: { subject: string } }[] }) => f.blocks[0].certificate.subject), ['CN=localhost', 'CN=CLI Test Intermediate', 'CN=localhost']);
    assert.equal(doc.files[0].blocks[0].range.start.line, 1);
    assert.equal(doc.files[2].format, 'der');
    assert.match((await run(['inspect', der])).out, /leaf\.der: DER, 1 block/);
  });

  test('keys show public facts only', async () => {
    const body = leaf.keyPem.split('\n')[1];
    for (const args of [['inspect', leaf.keyPath], ['inspect', '--json', leaf.keyPath]]) {
      const r = await run(args);
      assert.equal(r.code, 0);
      assert.match(r.out, /EC|P-256/);
      assert.ok(!r.out.includes(body), 'key material must never be printed');
    }
  });

  test('missing, unreadable and non-PEM inputs exit 2 with one line naming the file', async () => {
    assertUsage(await run(['inspect', join(pki.dir, 'nope.pem')]), /nope\.pem: no such file/);
    assertUsage(await run(['inspect', pki.dir]), /is a directory/);
    assertUsage(await run(['inspect', file('notes.txt', 'just some notes\n')]), /notes\.txt: no PEM block and not DER/);
    // A bad file among good ones is reported, and the good ones are still shown (exit 2 at the end).
    const mixed = await run(['inspect', chainPem, file('bin.der', Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]))]);
    assert.equal(mixed.code, 2);
    assert.match(mixed.err, /^certops inspect: \S+bin\.der: binary file that is not[^\n]*\n$/);
    assert.match(mixed.out, /chain\.pem: 2 blocks/);
  });
});

describe('lint', () => {
  test('prints file:line:col severity code message; warnings alone exit 0', async () => {
    const r = await run(['lint', chainPem]);
    assert.equal(r.code, 0, r.out + r.err);
    const lines = r.out.trimEnd().split('\n');
    assert.ok(lines.length >= 1);
    for (const l of lines) assert.match(l, /^.+chain\.pem:\d+:\d+ (error|warning|info|hint) [a-z-]+ .+$/);
    assert.ok(lines.some((l) => / warning cert-expiring /.test(l)), r.out);
  });

  test('an error diagnostic exits 1, on the line of the offending block', async () => {
    const lines = leaf.pem.split('\n');
    lines[2] = `${lines[2].slice(0, 10)}!!!`;
    const broken = file('broken.pem', `${inter.pem}\n${lines.join('\n')}`);
    const r = await run(['lint', broken]);
    assert.equal(r.code, 1);
    const startOfSecond = inter.pem.split('\n').length + 1;
    assert.match(r.out, new RegExp(`broken\\.pem:${startOfSecond}:1 error pem-malformed `));
  });

  test('expired certificates are errors; --json counts them', async () => {
    const r = await run(['lint', '--json', chainPem], { now: new Date(Date.now() + 25 * 86400_000) });
    assert.equal(r.code, 1);
    const doc = JSON.parse(r.out);
    assert.equal(doc.files[0].file, chainPem);
    const expired = doc.files[0].diagnostics.filter((d: { code: string }) => d.code === 'cert-expired');
    assert.equal(expired.length, 1);
    assert.equal(expired[0].severity, 'error');
    assert.equal(doc.errors >= 1, true);
  });

  test('--critical-days and --warning-days move the thresholds', async () => {
    const r = await run(['lint', chainPem, '--critical-days', '25', '--warning-days', '40']);
    assert.equal(r.code, 1);
    assert.match(r.out, / error cert-expiring-critical /);
  });
});

describe('expiry', () => {
  test('default threshold of 7 days passes a 20-day certificate; text lists each one', async () => {
    const r = await run(['expiry', chainPem, root.certPath]);
    assert.equal(r.code, 0);
    assert.match(r.out, /chain\.pem:1 {2}ok {8}\S+ \(\d+ days left\) {2}CN=localhost/);
    assert.match(r.out, /3 certificates, none expires within 7 days/);
  });

  test('--within catches the soon-expiring one and exits 1', async () => {
    const r = await run(['expiry', '--json', chainPem, '--within', '30']);
    assert.equal(r.code, 1);
    const doc = JSON.parse(r.out);
    assert.equal(doc.ok, false);
    assert.equal(doc.within, 30);
    assert.deepEqual(doc.certificates.map((c: { status: string }) => c.status), ['expiring', 'ok']);
    assert.equal(doc.certificates[0].sha256, fingerprint(leaf.certPath));
  });

  test('an expired certificate exits 1 and says so', async () => {
    const r = await run(['expiry', leaf.certPath], { now: new Date(Date.now() + 21 * 86400_000) });
    assert.equal(r.code, 1);
    assert.match(r.out, /EXPIRED .*expired 0 days ago|EXPIRED .*expired \d+ days ago/);
  });

  test('a file without certificates is a usage error', async () => {
    assertUsage(await run(['expiry', leaf.keyPath]), /leaf\.key: no certificate in the file/);
  });

  test('PKCS#7 files (DER, BER, PEM): every certificate inside is checked', async () => {
    const p7b = join(pki.dir, 'chain.p7b');
    openssl('crl2pkcs7', '-nocrl', '-certfile', chainPem, '-outform', 'DER', '-out', p7b);
    const ber = file('chain-ber.p7b', indefinite(readFileSync(p7b), 4));
    const p7pem = file('chain-p7.pem', openssl('crl2pkcs7', '-nocrl', '-certfile', chainPem));
    const r = await run(['expiry', '--json', p7b, ber, p7pem, '--within', '30']);
    assert.equal(r.code, 1, r.err);
    const doc = JSON.parse(r.out);
    const rows = doc.certificates.map((c: { location: string; subject: string; status: string; sha256: string }) => [c.location, c.subject, c.status, c.sha256]);
    const expected = (location: string) => [
      [location, 'CN=localhost', 'expiring', fingerprint(leaf.certPath)],
      [location, 'CN=CLI Test Intermediate', 'ok', fingerprint(inter.certPath)],
    ];
    assert.deepEqual(rows, [...expected(p7b), ...expected(ber), ...expected(`${p7pem}:1`)]);
    assert.deepEqual(doc.unreadable, []);
    const text = await run(['expiry', p7b]);
    assert.equal(text.code, 0);
    assert.match(text.out, /chain\.p7b {2}ok .* {2}CN=localhost\n/);
    assert.match(text.out, /2 certificates, none expires within 7 days/);
  });
});

describe('real binary', () => {
  const cli = resolve('dist/cli.js');
  const spawn = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

  test('dist/cli.js runs, prints JSON and exits with the documented codes', () => {
    const ok = spawn(['inspect', '--json', chainPem]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).files[0].blocks.length, 2);
    const missing = spawn(['expiry', join(pki.dir, 'missing.pem')]);
    assert.equal(missing.status, 2);
    assert.equal(missing.stderr, `certops expiry: ${join(pki.dir, 'missing.pem')}: no such file\n`);
    assert.equal(spawn(['expiry', chainPem, '--within', '30']).status, 1);
  });

  test('colour only on a terminal, and never with NO_COLOR', () => {
    const plain = spawn(['expiry', chainPem]);
    const ESC = '\u001b[';
    assert.ok(!plain.stdout.includes(ESC));
    // script(1) gives the child a pseudo-terminal, as an interactive shell would.
    const tty = (env: string) => execFileSync('script', ['-qec', `env -u NO_COLOR ${env} ${process.execPath} ${cli} expiry ${chainPem}`, '/dev/null'], { encoding: 'utf8' });
    assert.ok(tty('').includes(`${ESC}32mok`));
    assert.ok(!tty('NO_COLOR=1').includes(ESC));
  });
});
