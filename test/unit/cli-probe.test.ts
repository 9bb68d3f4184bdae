// probeTls and `certops probe` against Node TLS servers on loopback with openssl-generated certificates.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createTcpServer, Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import * as tls from 'node:tls';
import { main } from '../../server/src/cli/main';
import { parseTarget, ProbeError, probeTls } from '../../server/src/probe';
import { CA_EXT, leafExt, Pki, ROOT_EXT } from '../fixtures/pki';

const pki = new Pki();
const root = pki.issue('root', { subject: '/CN=Probe Root', ext: ROOT_EXT, notAfter: 365 * 86400 });
const inter = pki.issue('inter', { subject: '/CN=Probe Intermediate', issuer: root, ext: CA_EXT, notAfter: 300 * 86400 });
const leaf = pki.issue('leaf', { subject: '/CN=localhost', issuer: inter, ext: leafExt('DNS:localhost,IP:127.0.0.1,IP:::1'), notAfter: 20 * 86400 });
const sni = pki.issue('sni', { subject: '/CN=other.example.test', issuer: inter, ext: leafExt('DNS:other.example.test') });
const client = pki.issue('client', { subject: '/CN=probe client', issuer: inter, ext: leafExt('DNS:client.example.test', ['extendedKeyUsage = clientAuth']).filter((l) => l !== 'extendedKeyUsage = serverAuth') });
const sha = (i: { der: Uint8Array }) => createHash('sha256').update(i.der).digest('hex');
const read = (p: string) => readFileSync(p, 'utf8');

let server: tls.Server;
let port: number;
let silent: Server;
let silentPort: number;
let closedPort: number;

/** A one-connection mutual-TLS server: `authorized` says whether it accepted the client certificate. */
async function mtlsServer(ca = [root.pem, inter.pem]): Promise<{ port: number; authorized: Promise<boolean> }> {
  const s = tls.createServer({ cert: leaf.pem + inter.pem, key: read(leaf.keyPath), requestCert: true, rejectUnauthorized: false, ca });
  const authorized = new Promise<boolean>((r) =>
    s.once('secureConnection', (c: tls.TLSSocket) => {
      r(c.authorized);
      c.end();
      s.close();
    }),
  );
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { port: (s.address() as { port: number }).port, authorized };
}

before(async () => {
  const sniContext = tls.createSecureContext({ cert: sni.pem + inter.pem, key: read(sni.keyPath) });
  server = tls.createServer({
    cert: leaf.pem + inter.pem,
    key: read(leaf.keyPath),
    ALPNProtocols: ['h2', 'http/1.1'],
    SNICallback: (name, cb) => cb(null, name === 'other.example.test' ? sniContext : undefined),
  });
  server.on('secureConnection', (s) => s.end());
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => server.listen(0, '::', r));
  port = (server.address() as { port: number }).port;
  // Accepts TCP and never answers: the handshake must time out, not hang.
  silent = createTcpServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentPort = (silent.address() as { port: number }).port;
  const closed = createTcpServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  closedPort = (closed.address() as { port: number }).port;
  await new Promise((r) => closed.close(r));
});
after(() => {
  server.close();
  silent.close();
  pki.dispose();
});

async function run(argv: string[], env: NodeJS.ProcessEnv = { SSL_CERT_FILE: root.certPath }) {
  let out = '';
  let err = '';
  const code = await main(argv, (s) => void (out += s), (s) => void (err += s), { env, color: false });
  return { code, out, err };
}

describe('probeTls', () => {
  test('returns the served chain as DER and sha256, protocol, cipher, ALPN, host name and trust', async () => {
    const r = await probeTls({ host: '127.0.0.1', port, servername: 'localhost', roots: [root.pem] });
    assert.deepEqual(r.chain.map((c) => c.sha256), [sha(leaf), sha(inter)]);
    assert.deepEqual(Buffer.from(r.chain[0].der), Buffer.from(leaf.der));
    assert.equal(r.protocol, 'TLSv1.3');
    assert.match(r.cipher.standardName, /^TLS_/);
    assert.equal(r.alpn, 'h2');
    assert.equal(r.servername, 'localhost');
    assert.deepEqual(r.hostname, { name: 'localhost', matches: true });
    assert.equal(r.verification?.valid, true);
    assert.deepEqual(r.verification?.chain, [sha(leaf), sha(inter), sha(root)]);
  });

  test('no SNI for an IP address, the IP is checked against IP SANs; no roots means no verdict', async () => {
    const r = await probeTls({ host: '::1', port });
    assert.equal(r.servername, null);
    assert.deepEqual(r.hostname, { name: '::1', matches: true });
    assert.equal(r.verification, null);
  });

  test('SNI picks the certificate; the chain is returned even when untrusted', async () => {
    const r = await probeTls({ host: '127.0.0.1', port, servername: 'other.example.test', roots: [pki.issue('stranger', { subject: '/CN=Stranger', ext: ROOT_EXT }).pem] });
    assert.equal(r.chain[0].sha256, sha(sni));
    assert.equal(r.hostname.matches, true);
    assert.equal(r.verification?.valid, false);
    assert.ok(r.verification?.errors.some((e) => e.code === 'no-path'));
  });

  test('presents a client certificate for mutual TLS', async () => {
    const withCert = await mtlsServer();
    await probeTls({ host: '127.0.0.1', port: withCert.port, clientCert: client.pem, clientKey: read(client.keyPath) });
    assert.equal(await withCert.authorized, true);
    const without = await mtlsServer();
    await probeTls({ host: '127.0.0.1', port: without.port });
    assert.equal(await without.authorized, false);
  });

  test('rejects with a ProbeError for refused connections and silent servers', async () => {
    const refused = await probeTls({ host: '127.0.0.1', port: closedPort }).catch((e: unknown) => e);
    assert.ok(refused instanceof ProbeError);
    assert.equal(refused.code, 'ECONNREFUSED');
    const timedOut = await probeTls({ host: '127.0.0.1', port: silentPort, timeoutMs: 300 }).catch((e: unknown) => e);
    assert.ok(timedOut instanceof ProbeError);
    assert.equal(timedOut.code, 'ETIMEDOUT');
  });

  test('parseTarget: names, IPv4, [IPv6], default port, bad input', () => {
    assert.deepEqual(parseTarget('example.com:8443'), { host: 'example.com', port: 8443 });
    assert.deepEqual(parseTarget('192.0.2.1'), { host: '192.0.2.1', port: 443 });
    assert.deepEqual(parseTarget('[::1]:6380'), { host: '::1', port: 6380 });
    assert.deepEqual(parseTarget('[2001:db8::1]'), { host: '2001:db8::1', port: 443 });
    assert.throws(() => parseTarget('host:99999'), /port must be 1-65535/);
    assert.throws(() => parseTarget('[nope]:1'), /not HOST:PORT/);
  });
});

describe('certops probe', () => {
  test('text: connection facts, the decoded chain, trust, host name; exit 0', async () => {
    const r = await run(['probe', `localhost:${port}`]);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /\(SNI localhost\)/);
    assert.match(r.out, /protocol {2}TLSv1\.3, TLS_/);
    assert.match(r.out, /ALPN {6}h2/);
    assert.match(r.out, new RegExp(`0 CN=localhost\\n[\\s\\S]*sha256 {3}${sha(leaf)}[\\s\\S]*1 CN=Probe Intermediate`));
    assert.match(r.out, /trust {5}trusted by SSL_CERT_FILE=\S+ \(1 root\)/);
    assert.match(r.out, /hostname {2}localhost matches the leaf/);
  });

  test('--json: one document with the decoded chain and verdicts', async () => {
    const r = await run(['probe', '--json', `[::1]:${port}`, '--ca', root.certPath, '--expect-sha256', sha(leaf).toUpperCase().replace(/(..)(?!$)/g, '$1:')]);
    assert.equal(r.code, 0, r.out + r.err);
    const doc = JSON.parse(r.out);
    assert.equal(doc.ok, true);
    assert.equal(doc.address, '::1');
    assert.deepEqual(doc.chain.map((c: { sha256: string }) => c.sha256), [sha(leaf), sha(inter)]);
    assert.equal(doc.chain[0].subject, 'CN=localhost');
    assert.equal(doc.verification.valid, true);
    assert.deepEqual(doc.expectation, { expected: sha(leaf), source: '--expect-sha256', matches: true });
  });

  test('an untrusted chain is still shown, and exits 1 unless --no-verify', async () => {
    const r = await run(['probe', `127.0.0.1:${port}`], { SSL_CERT_FILE: '/etc/ssl/certs/ca-certificates.crt' });
    assert.equal(r.code, 1);
    assert.match(r.out, /0 CN=localhost/);
    assert.match(r.out, /NOT TRUSTED/);
    assert.equal((await run(['probe', `127.0.0.1:${port}`, '--no-verify'], {})).code, 0);
  });

  test('--servername sends SNI and checks that name; a name the leaf does not cover exits 1', async () => {
    const ok = await run(['probe', `127.0.0.1:${port}`, '--servername', 'other.example.test', '--json']);
    assert.equal(JSON.parse(ok.out).chain[0].sha256, sha(sni));
    assert.equal(ok.code, 0);
    const wrong = await run(['probe', `127.0.0.1:${port}`, '--servername', 'wrong.example.test']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.out, /wrong\.example\.test does NOT match the leaf/);
  });

  test('--expect-sha256 / --expect-cert that do not match the served leaf exit 1, even with --no-verify', async () => {
    const r = await run(['probe', `127.0.0.1:${port}`, '--no-verify', '--expect-sha256', sha(inter)]);
    assert.equal(r.code, 1);
    assert.match(r.out, /served leaf is NOT the expected one/);
    assert.equal((await run(['probe', `127.0.0.1:${port}`, '--expect-cert', sni.certPath])).code, 1);
    assert.equal((await run(['probe', `127.0.0.1:${port}`, '--expect-cert', leaf.certPath])).code, 0);
  });

  test('client certificates via --cert/--key', async () => {
    const mtls = await mtlsServer();
    const r = await run(['probe', `127.0.0.1:${mtls.port}`, '--cert', client.certPath, '--key', client.keyPath]);
    assert.equal(r.code, 0, r.err);
    assert.equal(await mtls.authorized, true);
  });

  test('a PKCS#7 for --cert and --expect-cert: its leaf first, wherever it is in the file', async () => {
    // The server knows only the root: it accepts the client only when the intermediate is sent after the leaf.
    const clientP7b = pki.write('client-chain.pem', inter.pem + client.pem);
    pki.openssl(['crl2pkcs7', '-nocrl', '-certfile', clientP7b, '-outform', 'DER', '-out', `${pki.dir}/client.p7b`]);
    const mtls = await mtlsServer([root.pem]);
    const r = await run(['probe', `127.0.0.1:${mtls.port}`, '--cert', `${pki.dir}/client.p7b`, '--key', client.keyPath]);
    assert.equal(r.code, 0, r.err);
    assert.equal(await mtls.authorized, true);
    const served = pki.write('served-chain.pem', root.pem + inter.pem + leaf.pem);
    pki.openssl(['crl2pkcs7', '-nocrl', '-certfile', served, '-outform', 'DER', '-out', `${pki.dir}/served.p7b`]);
    const expect = await run(['probe', `127.0.0.1:${port}`, '--expect-cert', `${pki.dir}/served.p7b`]);
    assert.equal(expect.code, 0, expect.out + expect.err);
  });

  test('unreachable, silent, and bad arguments exit 2 with one line', async () => {
    const cases: [string[], RegExp][] = [
      [['probe', `127.0.0.1:${silentPort}`, '--timeout', '0.3'], /no TLS handshake within 0\.3 s/],
      [['probe', 'no-such-host.invalid:443', '--timeout', '5'], /host name not found/],
      [['probe', 'localhost:1:2'], /is not HOST:PORT/],
      [['probe', `127.0.0.1:${port}`, '--expect-sha256', 'abc'], /not 64 hexadecimal digits/],
      [['probe', `127.0.0.1:${port}`, '--cert', client.certPath], /--cert and --key go together/],
      [['probe', `127.0.0.1:${port}`, '--timeout', '0'], /--timeout: expected a positive number/],
      [['probe'], /expected one HOST:PORT/],
    ];
    for (const [argv, pattern] of cases) {
      const r = await run(argv);
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.out}${r.err}`);
      assert.match(r.err, pattern);
      assert.equal(r.err.trimEnd().split('\n').length, 1);
    }
  });
});
