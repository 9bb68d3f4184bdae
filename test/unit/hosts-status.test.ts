// STARTTLS (SMTP, IMAP) against small loopback servers, and endpointStatus's judgement with a scripted RemoteHost.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, Server, Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import * as tls from 'node:tls';
import { endpointStatus } from '../../server/src/hosts';
import type { EndpointEntry, HostEntry } from '../../server/src/inventory';
import { ProbeError, probeTls } from '../../server/src/probe';
import type { ExecResult, RemoteHost, RemoteStat } from '../../server/src/ssh';
import { CA_EXT, DAY, leafExt, Pki, ROOT_EXT } from '../fixtures/pki';

const pki = new Pki();
const root = pki.issue('root', { subject: '/CN=Unit Hosts Root', ext: ROOT_EXT, notAfter: 365 * DAY });
const inter = pki.issue('inter', { subject: '/CN=Unit Hosts Int', issuer: root, ext: CA_EXT, notAfter: 300 * DAY });
const leaf = pki.issue('leaf', { subject: '/CN=mail.example.test', issuer: inter, ext: leafExt('DNS:mail.example.test'), notAfter: 100 * DAY });
const soon = pki.issue('soon', { subject: '/CN=soon.example.test', issuer: inter, ext: leafExt('DNS:soon.example.test'), notAfter: 3 * DAY });
const gone = pki.issue('gone', { subject: '/CN=gone.example.test', issuer: inter, ext: leafExt('DNS:gone.example.test'), notBefore: -10 * DAY, notAfter: -DAY });
const sha = (i: { der: Uint8Array }) => createHash('sha256').update(i.der).digest('hex');
const secure = (cert: string, key: string) => tls.createSecureContext({ cert, key });

/** A plain-text server that upgrades to TLS after `script` says so. */
function starttlsServer(script: (sock: Socket, upgrade: () => void) => void, cert = leaf.pem + inter.pem, key = readFileSync(leaf.keyPath, 'utf8')): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer((sock) => {
      script(sock, () => {
        const t = new tls.TLSSocket(sock, { isServer: true, secureContext: secure(cert, key) });
        t.on('error', () => undefined);
      });
    });
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
  pki.dispose();
});

describe('STARTTLS', () => {
  let smtp: number;
  let imap: number;
  let refusing: number;
  before(async () => {
    const s1 = await starttlsServer((sock, upgrade) => {
      sock.write('220-mail.example.test ESMTP\r\n220 ready\r\n');
      let buf = '';
      const onData = (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('EHLO') && buf.endsWith('\r\n') && !buf.includes('STARTTLS')) sock.write('250-mail.example.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n');
        if (buf.includes('STARTTLS\r\n')) {
          sock.removeListener('data', onData);
          sock.write('220 2.0.0 go ahead\r\n');
          upgrade();
        }
      };
      sock.on('data', onData);
    });
    const s2 = await starttlsServer((sock, upgrade) => {
      sock.write('* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n');
      const onData = (d: Buffer) => {
        const m = /^(\S+) STARTTLS\r\n$/.exec(d.toString());
        if (!m) return;
        sock.removeListener('data', onData);
        sock.write(`* CAPABILITY IMAP4rev1\r\n${m[1]} OK Begin TLS negotiation now\r\n`);
        upgrade();
      };
      sock.on('data', onData);
    });
    const s3 = await starttlsServer((sock) => {
      sock.write('220 hi\r\n');
      sock.on('data', (d) => sock.write(d.toString().startsWith('EHLO') ? '250 hi\r\n' : '454 TLS not available\r\n'));
    });
    servers.push(s1.server, s2.server, s3.server);
    [smtp, imap, refusing] = [s1.port, s2.port, s3.port];
  });

  test('SMTP: greeting, EHLO, STARTTLS, then the handshake shows the served chain', async () => {
    const r = await probeTls({ host: '127.0.0.1', port: smtp, servername: 'mail.example.test', starttls: 'smtp', roots: [root.pem] });
    assert.deepEqual(r.chain.map((c) => c.sha256), [sha(leaf), sha(inter)]);
    assert.equal(r.verification?.valid, true);
    assert.equal(r.hostname.matches, true);
  });

  test('IMAP: untagged lines before the tagged OK are skipped', async () => {
    const r = await probeTls({ host: '127.0.0.1', port: imap, servername: 'mail.example.test', starttls: 'imap' });
    assert.equal(r.chain[0].sha256, sha(leaf));
  });

  test('a server that refuses STARTTLS gives a one-line ProbeError with its answer', async () => {
    await assert.rejects(probeTls({ host: '127.0.0.1', port: refusing, starttls: 'smtp', timeoutMs: 3000 }), (e: ProbeError) => e.code === 'ESTARTTLS' && /STARTTLS answered 454 TLS not available/.test(e.message));
  });

  test('probing over a given stream (as through SSH forwardOut)', async () => {
    const { Socket: NetSocket } = await import('node:net');
    const sock = new NetSocket();
    await new Promise<void>((resolve) => sock.connect(smtp, '127.0.0.1', resolve));
    const r = await probeTls({ host: 'mail.example.test', port: 25, socket: sock as Duplex, starttls: 'smtp' });
    assert.equal(r.chain[0].sha256, sha(leaf));
    assert.equal(r.address, 'mail.example.test', 'the address is the named target, not the tunnel');
  });
});

/** A RemoteHost over an in-memory file table; probes go to real loopback servers. */
function fakeRemote(files: Record<string, { text: string; mode?: number }>): RemoteHost {
  const stat = async (path: string): Promise<RemoteStat | undefined> =>
    files[path] ? { path, mode: files[path].mode ?? 0o644, uid: 0, gid: 0, size: files[path].text.length, mtimeMs: 0, isFile: true, isDirectory: false } : undefined;
  const none = async (): Promise<ExecResult> => ({ code: 0, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) });
  return {
    name: 'fake',
    sudo: false,
    exec: none,
    execShell: none,
    stat,
    async readFile(path) {
      if (!files[path]) throw Object.assign(new Error(`${path}: no such file`), { code: 'ENOENT' });
      return Buffer.from(files[path].text);
    },
    forwardOut: () => Promise.reject(new Error('not used')),
    close: () => undefined,
  };
}

describe('endpointStatus', () => {
  let tlsPort: number;
  let served = leaf;
  before(async () => {
    const server = tls.createServer({ SNICallback: (_n, cb) => cb(null, secure(served.pem + inter.pem, readFileSync(served.keyPath, 'utf8'))) });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    tlsPort = (server.address() as { port: number }).port;
  });
  const host: HostEntry = { name: 'h', ssh: 'h', endpoints: [] };
  const ep = (over: Partial<EndpointEntry> = {}): EndpointEntry => ({
    name: 'e',
    probe: { host: '127.0.0.1', port: tlsPort, servername: 'x.example.test' },
    files: { cert: '/c.pem', key: '/k.pem', ca: '/ca.pem' },
    reload: { kind: 'none' },
    ...over,
  });
  const withFiles = (c: typeof leaf, opts: { keyOf?: typeof leaf; keyMode?: number; chain?: boolean } = {}) =>
    fakeRemote({
      '/c.pem': { text: c.pem + (opts.chain === false ? '' : inter.pem) },
      '/k.pem': { text: readFileSync((opts.keyOf ?? c).keyPath, 'utf8'), mode: opts.keyMode ?? 0o600 },
      '/ca.pem': { text: root.pem },
    });

  test('ok when disk and served agree, with the facts of both', async () => {
    served = leaf;
    const s = await endpointStatus(host, ep(), withFiles(leaf));
    assert.deepEqual(s.states, ['ok'], s.messages.join('; '));
    assert.equal(s.files.cert.certificate?.sha256, sha(leaf));
    assert.equal(s.served?.sha256, sha(leaf));
    assert.deepEqual(s.served?.chain, [sha(leaf), sha(inter)]);
    assert.equal(s.files.cert.certificate?.daysLeft, 99);
  });

  test('expiring (within warningDays) and expired, from the file and the served certificate', async () => {
    served = soon;
    const s1 = await endpointStatus(host, ep({ expiry: { warningDays: 7 } }), withFiles(soon));
    assert.deepEqual(s1.states, ['expiring']);
    assert.match(s1.messages[0], /expires .* in 2 days/);
    served = gone;
    const s2 = await endpointStatus(host, ep(), withFiles(gone));
    assert.deepEqual(s2.states, ['expired']);
  });

  test('several states at once, most severe first', async () => {
    served = leaf;
    const s = await endpointStatus(host, ep(), withFiles(soon, { keyOf: leaf, keyMode: 0o640 }));
    assert.deepEqual(s.states, ['key-mismatch', 'served-differs', 'key-exposed', 'expiring']);
    assert.match(s.messages.join('\n'), /readable by its group \(mode 0640\)/);
  });

  test('chain incomplete when neither the file, the server nor the CA file supplies the issuer', async () => {
    served = leaf;
    const remote = fakeRemote({ '/c.pem': { text: leaf.pem + inter.pem } });
    const s = await endpointStatus(host, ep({ files: { cert: '/c.pem' } }), remote);
    assert.deepEqual(s.states, ['chain-incomplete'], s.messages.join('; '));
  });

  test('a missing file and an unreachable probe are reported with their reasons', async () => {
    const s = await endpointStatus(host, ep({ probe: { host: '127.0.0.1', port: 1 } }), fakeRemote({}));
    assert.deepEqual(s.states, ['unreachable', 'error']);
    assert.match(s.messages.join('\n'), /connection refused/);
    assert.match(s.messages.join('\n'), /\/c\.pem: no such file/);
    const down = await endpointStatus(host, ep(), new Error('root@h:22: connection refused'));
    assert.deepEqual(down.states, ['unreachable']);
    assert.equal(down.messages[0], 'h is unreachable: root@h:22: connection refused');
  });
});
