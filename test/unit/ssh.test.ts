// The SSH layer's pure parts: shell quoting (checked by a real sh), known_hosts, and ssh_config resolution.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { checkHostKey, expandIncludes, fingerprintSha256, knownHostsLine, parseKnownHosts, readSshConfig, resolveSsh, shellJoin, shellQuote } from '../../server/src/ssh';

/** An ssh-ed25519 public key blob, as a server offers it. */
function ed25519Blob(): Buffer {
  const raw = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const type = Buffer.from('ssh-ed25519');
  const len = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
  return Buffer.concat([len(type.length), type, len(raw.length), raw]);
}
const b64 = (b: Buffer) => b.toString('base64');

describe('shellQuote', () => {
  const nasty = [
    'plain',
    'with space',
    "it's",
    '"double"',
    '$(touch /tmp/certops-never)',
    '`id`',
    '-n',
    '--help',
    'line\nbreak',
    '',
    "'",
    '\\',
    '*',
    '~root',
    'a;b|c&d>e<f',
    '$HOME ${IFS} $((1+1))',
    'ünïcødé 🔑',
    '\t tab',
  ];
  for (const s of nasty) {
    test(`a real sh receives ${JSON.stringify(s)} literally`, () => {
      const out = execFileSync('sh', ['-c', `printf '%s' ${shellQuote(s)}`]);
      assert.equal(out.toString('utf8'), s);
    });
  }
  test('a leading dash is quoted, plain words stay readable, NUL is refused', () => {
    assert.equal(shellQuote('-rf'), "'-rf'");
    assert.equal(shellQuote('/etc/nginx/tls/server.crt'), '/etc/nginx/tls/server.crt');
    assert.equal(shellQuote("a'b"), `'a'\\''b'`);
    assert.throws(() => shellQuote('a\0b'), /NUL/);
  });
  test('shellJoin keeps every argument one word', () => {
    const out = execFileSync('sh', ['-c', `for a in ${shellJoin(['a b', '', '$(x)', 'c'])}; do printf '[%s]' "$a"; done`]);
    assert.equal(out.toString(), '[a b][][$(x)][c]');
  });
});

describe('known_hosts', () => {
  const key = ed25519Blob();
  const other = ed25519Blob();
  const hashed = (name: string) => {
    const salt = randomBytes(20);
    return `|1|${b64(salt)}|${b64(createHmac('sha1', salt).update(name).digest())}`;
  };

  test('plain names, [host]:port, patterns and negation', () => {
    const text = [
      '# comment',
      '',
      `web1.example.com,10.0.0.5 ssh-ed25519 ${b64(key)}`,
      `[db.example.com]:2222 ssh-ed25519 ${b64(key)} comment here`,
      `*.lab.test,!bad.lab.test ssh-ed25519 ${b64(key)}`,
      'garbage line',
      `mismatched ssh-rsa ${b64(key)}`,
    ].join('\n');
    const entries = parseKnownHosts(text, 'kh');
    assert.equal(entries.length, 3, 'the garbage line and the type that does not match its key are skipped');
    assert.deepEqual(entries.map((e) => e.line), [3, 4, 5]);
    assert.equal(checkHostKey(entries, ['web1.example.com'], key).status, 'known');
    assert.equal(checkHostKey(entries, ['10.0.0.5'], key).status, 'known');
    assert.equal(checkHostKey(entries, ['WEB1.example.com'], key).status, 'known', 'host names are case-insensitive');
    assert.equal(checkHostKey(entries, ['[db.example.com]:2222'], key).status, 'known');
    assert.equal(checkHostKey(entries, ['db.example.com'], key).status, 'unknown', 'port 22 is a different entry');
    assert.equal(checkHostKey(entries, ['[db.example.com]:2223'], key).status, 'unknown');
    assert.equal(checkHostKey(entries, ['a.lab.test'], key).status, 'known');
    assert.equal(checkHostKey(entries, ['bad.lab.test'], key).status, 'unknown', 'negated');
  });

  test('a different key for a known host is "changed", naming file and line', () => {
    const entries = parseKnownHosts(`# x\n[h]:2200 ssh-ed25519 ${b64(key)}\n`, '/root/.ssh/known_hosts');
    const v = checkHostKey(entries, ['[h]:2200'], other);
    assert.equal(v.status, 'changed');
    assert.equal(v.status === 'changed' && `${v.entry.file}:${v.entry.line}`, '/root/.ssh/known_hosts:2');
  });

  test('hashed entries (|1|salt|hmac) match the name they hash, with the port form', () => {
    const entries = parseKnownHosts(`${hashed('[10.1.1.1]:2222')} ssh-ed25519 ${b64(key)}\n${hashed('example.org')} ssh-ed25519 ${b64(key)}`, 'kh');
    assert.equal(checkHostKey(entries, ['[10.1.1.1]:2222'], key).status, 'known');
    assert.equal(checkHostKey(entries, ['example.org'], key).status, 'known');
    assert.equal(checkHostKey(entries, ['example.org'], other).status, 'changed');
    assert.equal(checkHostKey(entries, ['10.1.1.1'], key).status, 'unknown');
  });

  test('@revoked wins over a matching entry; @cert-authority is recognised but does not vouch for a plain key', () => {
    const entries = parseKnownHosts([`h ssh-ed25519 ${b64(key)}`, `@revoked * ssh-ed25519 ${b64(key)}`, `@cert-authority *.corp ssh-ed25519 ${b64(other)}`, `@bogus h ssh-ed25519 ${b64(key)}`].join('\n'), 'kh');
    assert.equal(entries.length, 3);
    const v = checkHostKey(entries, ['h'], key);
    assert.equal(v.status, 'revoked');
    assert.equal(v.status === 'revoked' && v.entry.line, 2);
    const ca = checkHostKey(entries, ['x.corp'], ed25519Blob());
    assert.equal(ca.status, 'unknown');
    assert.equal(ca.status === 'unknown' && ca.certAuthority?.line, 3);
  });

  test('fingerprints and saved lines are what OpenSSH writes', () => {
    assert.match(fingerprintSha256(key), /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.equal(knownHostsLine('h', 22, key), `h ssh-ed25519 ${b64(key)}`);
    assert.equal(knownHostsLine('h', 2222, key), `[h]:2222 ssh-ed25519 ${b64(key)}`);
  });
});

describe('ssh_config Include', () => {
  test('included files are spliced in place: relative to ~/.ssh, globs sorted, missing ones ignored', () => {
    const home = mkdtempSync(join(tmpdir(), 'certops-home-'));
    try {
      mkdirSync(join(home, '.ssh', 'config.d'), { recursive: true });
      writeFileSync(join(home, '.ssh', 'config.d', '20-web'), 'Host web\n  Port 2020\n');
      writeFileSync(join(home, '.ssh', 'config.d', '10-db'), 'Host db\n  Port 1010\n  Include ~/.ssh/deeper\n');
      writeFileSync(join(home, '.ssh', 'deeper'), '  User nested\n');
      writeFileSync(join(home, '.ssh', 'config'), 'Include config.d/* missing-file\nHost *\n  Port 22\n');
      const text = readSshConfig(join(home, '.ssh', 'config'), home) ?? '';
      assert.equal(resolveSsh('db', 'x', { configText: text, home, localUser: 'u' }).port, 1010);
      assert.equal(resolveSsh('db', 'x', { configText: text, home, localUser: 'u' }).user, 'nested');
      assert.equal(resolveSsh('web', 'x', { configText: text, home, localUser: 'u' }).port, 2020);
      assert.equal(resolveSsh('other', 'x', { configText: text, home, localUser: 'u' }).port, 22);
      writeFileSync(join(home, '.ssh', 'loop'), 'Include ~/.ssh/loop\n');
      assert.throws(() => expandIncludes('Include ~/.ssh/loop\n', home, 0), /nested too deeply/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('ssh_config resolution', () => {
  const config = [
    'Host bastion',
    '  HostName 192.0.2.10',
    '  User jump',
    'Host web-*',
    '  User deploy',
    '  Port 2222',
    '  IdentityFile ~/.ssh/web_%r',
    '  IdentitiesOnly yes',
    '  ProxyJump bastion,other:2200',
    '  UserKnownHostsFile ~/.ssh/kh_%h /etc/kh2',
    '  StrictHostKeyChecking accept-new',
    '  ConnectTimeout 3',
    '  ServerAliveInterval 7',
    'Match host web-2',
    '  HostName 10.0.0.2',
    'Host *',
    '  User fallback',
    '  Port 22',
    '',
  ].join('\n');
  const opts = { configText: config, home: '/home/op', localUser: 'op' };

  test('Host patterns, first value wins, tokens and ~ expanded', () => {
    const r = resolveSsh('web-1', 'ignored', opts);
    assert.equal(r.hostname, 'web-1');
    assert.equal(r.user, 'deploy');
    assert.equal(r.port, 2222);
    assert.deepEqual(r.identityFiles, ['/home/op/.ssh/web_deploy']);
    assert.equal(r.identitiesOnly, true);
    assert.deepEqual(r.proxyJump, ['bastion', 'other:2200']);
    assert.deepEqual(r.knownHostsFiles, ['/home/op/.ssh/kh_web-1', '/etc/kh2']);
    assert.equal(r.strictHostKeyChecking, 'accept-new');
    assert.equal(r.connectTimeoutMs, 3000);
    assert.equal(r.serverAliveIntervalMs, 7000);
  });

  test('Match host applies; the inventory object overrides the config', () => {
    assert.equal(resolveSsh('web-2', 'x', opts).hostname, '10.0.0.2');
    const r = resolveSsh({ host: 'web-1', port: 2200, user: 'other', identityFile: '~/k', proxyJump: 'none' }, 'x', opts);
    assert.equal(r.port, 2200);
    assert.equal(r.user, 'other');
    assert.equal(r.identityFiles[0], '/home/op/k');
    assert.deepEqual(r.proxyJump, []);
  });

  test('defaults: the host name itself, port 22, the local user, the default identity and known_hosts files', () => {
    const r = resolveSsh({ host: '198.51.100.7' }, 'x', { home: '/home/op', localUser: 'op' });
    assert.equal(r.hostname, '198.51.100.7');
    assert.equal(r.port, 22);
    assert.equal(r.user, 'op');
    assert.equal(r.explicitIdentity, false);
    assert.ok(r.identityFiles.includes('/home/op/.ssh/id_ed25519'));
    assert.deepEqual(r.knownHostsFiles, ['/home/op/.ssh/known_hosts', '/home/op/.ssh/known_hosts2']);
    assert.equal(r.strictHostKeyChecking, 'ask');
    // The inventory's name is the host when ssh has no host.
    assert.equal(resolveSsh({}, 'named-host', { home: '/h', localUser: 'u' }).hostname, 'named-host');
    assert.equal(resolveSsh('bastion', 'x', opts).user, 'jump');
  });
});
