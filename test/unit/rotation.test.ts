// The rotation transaction against a host whose scripts run with the real sh in a temporary
// directory and an in-memory server that, like nginx, keeps its old certificate when the new
// key does not fit: success, every failure point rolled back, locks, and journal recovery.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import * as tls from 'node:tls';
import { main } from '../../server/src/cli/main';
import type { EndpointEntry } from '../../server/src/rotation/contract';
import { readEvidence, renderMarkdown, writeEvidence } from '../../server/src/rotation/evidence';
import { rollbackEndpoint, rotateEndpoint, rotateTrustEndpoint } from '../../server/src/rotation';
import { decodeJournal, lockPath } from '../../server/src/rotation/journal';
import { recoverEndpoint } from '../../server/src/rotation/recover';
import { runFleet } from '../../server/src/rotation/fleet';
import type { NewFiles } from '../../server/src/rotation/preflight';
import { runCheck } from '../../server/src/rotation/served';
import { rotate } from '../../server/src/rotation/transaction';
import { DAY, leafExt, Pki } from '../fixtures/pki';
import { FakeServer, fakeDeps, LocalHost, result } from './rotation-fakes';

const pki = new Pki();
after(() => pki.dispose());
const { root, intermediate, leaf: oldLeaf } = pki.chain('rot', 'web.example.test');
const newLeaf = pki.issue('rot-new', { subject: '/CN=web.example.test', issuer: intermediate, ext: leafExt('DNS:web.example.test'), notAfter: 300 * DAY });
const otherKey = pki.issue('rot-other', { subject: '/CN=other.example.test', issuer: intermediate, ext: leafExt('DNS:other.example.test'), notAfter: 300 * DAY });
const wrongName = pki.issue('rot-wrongname', { subject: '/CN=wrong.example.test', issuer: intermediate, ext: leafExt('DNS:wrong.example.test'), notAfter: 300 * DAY });
const shortLived = pki.issue('rot-short', { subject: '/CN=web.example.test', issuer: intermediate, ext: leafExt('DNS:web.example.test'), notAfter: 20 * DAY });
const future = pki.issue('rot-future', { subject: '/CN=web.example.test', issuer: intermediate, ext: leafExt('DNS:web.example.test'), notBefore: 2 * DAY, notAfter: 300 * DAY });
const stranger = pki.chain('stranger', 'web.example.test').leaf;

/** A "host" directory with the endpoint's files as an operator leaves them. */
function setup(dirName = 'etc') {
  const base = mkdtempSync(join(tmpdir(), 'certops-rot-'));
  const dir = join(base, dirName);
  mkdirSync(dir, { recursive: true });
  const cert = join(dir, 'server.crt');
  const key = join(dir, 'server.key');
  const ca = join(dir, 'ca.crt');
  writeFileSync(cert, oldLeaf.pem + intermediate.pem);
  chmodSync(cert, 0o644);
  writeFileSync(key, oldLeaf.keyPem);
  chmodSync(key, 0o600);
  writeFileSync(ca, root.pem);
  chmodSync(ca, 0o644);
  const endpoint: EndpointEntry = {
    name: 'https',
    probe: { host: '127.0.0.1', port: 443, servername: 'web.example.test' },
    files: { cert, key, ca },
    reload: { kind: 'command', command: 'reload-fake' },
  };
  const host = new LocalHost();
  const server = new FakeServer(cert, key);
  const deps = fakeDeps(endpoint, host, server);
  return { base, dir, cert, key, ca, endpoint, host, server, deps, snapshot: () => snapshot(dir) };
}

/** Every file of a directory with its bytes and mode, for "nothing changed" assertions. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(dir).sort()) out[n] = `${(statSync(join(dir, n)).mode & 0o777).toString(8)} ${readFileSync(join(dir, n), 'base64')}`;
  return out;
}

function files(cert: { pem: string }, key: { keyPem: string }, extra: Partial<NewFiles> = {}): NewFiles {
  return { cert: Buffer.from(cert.pem + intermediate.pem), key: Buffer.from(key.keyPem), names: { cert: 'new.crt', key: 'new.key' }, ...extra };
}

const fast = { verifyTimeoutMs: 300, pollMs: 20 };

/** The old files are back, byte for byte, and nothing of the rotation is left but backups. */
function assertRestored(s: ReturnType<typeof setup>, before: Record<string, string>) {
  const now = snapshot(s.dir);
  for (const n of Object.keys(before)) assert.equal(now[n], before[n], `${n} is back as it was`);
  const extra = Object.keys(now).filter((n) => !(n in before));
  assert.ok(extra.every((n) => n.includes('.certops-backup-')), `only backups are left: ${extra.join(', ')}`);
  assert.equal(s.server.served, sha(oldLeaf), 'the old certificate is served');
}

function sha(i: { der: Uint8Array }): string {
  return createHash('sha256').update(i.der).digest('hex');
}

describe('rotation transaction', () => {
  test('success: new files in place with the right modes, backups kept, lock gone, cutover recorded', async () => {
    const s = setup();
    chmodSync(s.key, 0o640);
    const [r] = await rotateEndpoint(s.deps, files(newLeaf, newLeaf), fast);
    assert.equal(r.state, 'rotated', r.message);
    assert.equal(s.server.served, sha(newLeaf));
    assert.equal(readFileSync(s.cert, 'utf8'), newLeaf.pem + intermediate.pem);
    assert.equal(readFileSync(s.key, 'utf8'), newLeaf.keyPem);
    assert.equal(statSync(s.key).mode & 0o777, 0o600, 'the key is created 0600 whatever the old mode');
    assert.equal(statSync(s.cert).mode & 0o777, 0o644, 'the certificate keeps its mode');
    const backups = readdirSync(s.dir).filter((n) => n.includes('.certops-backup-'));
    assert.equal(backups.length, 2);
    const keyBackup = backups.find((n) => n.startsWith('server.key'));
    assert.ok(keyBackup);
    assert.equal(readFileSync(join(s.dir, keyBackup), 'utf8'), oldLeaf.keyPem);
    assert.equal(statSync(join(s.dir, keyBackup)).mode & 0o777, 0o640, 'backups keep the old mode');
    assert.equal(existsSync(lockPath(s.cert)), false);
    assert.deepEqual(readdirSync(s.dir).filter((n) => n.startsWith('.')), [], 'no temporary file or lock left');
    assert.equal(typeof r.cutoverMs, 'number');
    assert.equal(r.old.served, sha(oldLeaf));
    assert.equal(r.new?.sha256, sha(newLeaf));
    assert.deepEqual(r.steps.map((x) => x.name), ['inspect files', 'read current certificate', 'probe baseline', 'lock and backup', 'place', 'reload', 'verify', 'release']);
    assert.ok(r.reload?.[0].output.includes('reloaded'));
    // The key never travels in argv: only stdin carries it.
    assert.ok(!s.host.log.some((l) => l.includes(newLeaf.keyPem.split('\n')[1])));
  });

  test('backups are kept to --keep per file; the journal lists the phases done', async () => {
    const s = setup();
    const journals: string[] = [];
    s.host.faults.push((sc) => {
      for (const m of sc.matchAll(/printf '%s\\n' '(\{"version".*?\})'/g)) journals.push(m[1]);
      return undefined;
    });
    for (let i = 0; i < 4; i++) {
      const [a] = await rotateEndpoint(s.deps, files(newLeaf, newLeaf), { ...fast, keepBackups: 2 });
      assert.equal(a.state, 'rotated', a.message);
      const [b] = await rotateEndpoint(s.deps, files(oldLeaf, oldLeaf), { ...fast, keepBackups: 2, allowEarlierExpiry: true });
      assert.equal(b.state, 'rotated', b.message);
    }
    const backups = readdirSync(s.dir).filter((n) => n.startsWith('server.crt.certops-backup-'));
    assert.equal(backups.length, 2);
    const last = decodeJournal(journals[journals.length - 1]);
    assert.deepEqual(last?.done, ['locked', 'backed-up', 'placing', 'placed']);
  });

  test('the key is created with its mode: the staging script sets the umask before the file exists and never chmods', async () => {
    const s = setup();
    await rotate(s.deps, files(newLeaf, newLeaf), fast);
    const stage = s.host.log.filter((l) => l.includes('certops-new-') && l.includes('dd bs=1'));
    assert.equal(stage.length, 1, 'one round trip writes every new file');
    // The key's file is created under umask 177 (mode 0600) before dd writes a byte into it.
    assert.match(stage[0], /umask 177; rm -f -- \S*\.server\.key\.certops-new-\S*; set -C; : > \S*\.server\.key\.certops-new-/);
    assert.match(stage[0], /umask 133; rm -f -- \S*\.server\.crt\.certops-new-/);
    assert.doesNotMatch(stage[0], /chmod/);
  });

  test('a key that does not fit is refused before anything changes', async () => {
    const s = setup();
    const before = s.snapshot();
    const [r] = await rotateEndpoint(s.deps, files(newLeaf, otherKey), fast);
    assert.equal(r.state, 'refused');
    assert.match(r.message, /not the private key/);
    assert.deepEqual(s.snapshot(), before);
    assert.equal(s.host.log.length, 0, 'not one remote command');
  });

  test('preflight refusals: wrong name, not yet valid, untrusted chain, earlier expiry (overridable)', async () => {
    const s = setup();
    const before = s.snapshot();
    const cases: [NewFiles, RegExp][] = [
      [files(wrongName, wrongName), /web\.example\.test is not among/],
      [files(future, future), /not valid before/],
      [{ cert: Buffer.from(stranger.pem), key: Buffer.from(stranger.keyPem), names: { cert: 'stranger.crt', key: 'stranger.key' } }, /does not verify against .*ca\.crt/],
      [files(shortLived, shortLived), /expires .* before the current one/],
      [{ cert: Buffer.from('not a certificate'), key: Buffer.from(newLeaf.keyPem), names: { cert: 'junk.crt', key: 'k' } }, /junk\.crt: no certificate/],
    ];
    for (const [f, re] of cases) {
      const [r] = await rotateEndpoint(s.deps, f, fast);
      assert.equal(r.state, 'refused', r.message);
      assert.match(r.message, re);
    }
    assert.deepEqual(s.snapshot(), before);
    const [ok] = await rotateEndpoint(s.deps, files(shortLived, shortLived), { ...fast, allowEarlierExpiry: true });
    assert.equal(ok.state, 'rotated', ok.message);
  });

  test('a dry run prints the plan and changes nothing', async () => {
    const s = setup();
    const before = s.snapshot();
    const [r] = await rotateEndpoint(s.deps, files(newLeaf, newLeaf), { ...fast, dryRun: true });
    assert.equal(r.state, 'planned');
    assert.deepEqual(s.snapshot(), before);
    const plan = (r.plan ?? []).join('\n');
    assert.match(plan, /back up .*server\.crt \(0644/);
    assert.match(plan, /new key to .*created 0600/);
    assert.match(plan, /run: reload-fake/);
    assert.match(plan, new RegExp(`until it serves ${sha(newLeaf)}`));
  });

  // Every step after the backup that can fail, and what it does to the host.
  const failures: [string, (s: ReturnType<typeof setup>) => void, RegExp][] = [
    ['before hook fails', (s) => (s.endpoint.hooks = { before: 'exit 3' }), /"exit 3" exited 3/],
    ['staging fails (disk full)', (s) => s.host.faults.push((sc) => (sc.includes('dd bs=1') ? result(1, 'No space left on device') : undefined)), /No space left/],
    ['the second rename fails', (s) => s.host.faults.push((sc) => (sc.includes('ln -f') ? sc.replace(/mv -f -- '?[^' ]*\.server\.key\.certops-new-[^' ]*'?/, 'false') : undefined)), /rename over .*server\.key failed; the renames before it were undone/],
    ['the reload command fails', (s) => (s.endpoint.reload = { kind: 'command', command: 'echo bad config >&2; exit 1' }), /failed \(exit 1\): bad config/],
    ['the signal sent with the placement finds no pid', (s) => (s.endpoint.reload = { kind: 'signal', pidFile: join(s.dir, 'missing.pid') }), /send SIGHUP to the pid in .*missing\.pid failed \(exit 1\)/],
    ['the server ignores the reload (verify times out)', (s) => (s.server.reacts = false), /not served within 0\.3 s/],
    ['the after hook fails', (s) => (s.endpoint.hooks = { after: 'false' }), /"false" exited 1/],
    ['the check fails', (s) => (s.endpoint.check = { command: 'echo unhealthy; exit 1', where: 'host' }), /check failed: unhealthy/],
  ];
  for (const [name, arrange, why] of failures) {
    test(`rolled back when ${name}`, async () => {
      const s = setup();
      const before = s.snapshot();
      arrange(s);
      const [r] = await rotateEndpoint(s.deps, files(newLeaf, newLeaf), fast);
      assert.equal(r.state, 'rolled-back', r.message);
      assert.match(r.message, why);
      assertRestored(s, before);
      assert.equal(existsSync(lockPath(s.cert)), false, 'the lock is released');
    });
  }

  test('cancel: before the backup nothing changes; after placement the rotation rolls back', async () => {
    const s = setup();
    const before = s.snapshot();
    const early = new AbortController();
    early.abort();
    const [r1] = await rotateEndpoint(s.deps, files(newLeaf, newLeaf), { ...fast, signal: early.signal });
    assert.equal(r1.state, 'refused');
    assert.match(r1.message, /cancelled/);
    assert.deepEqual(s.snapshot(), before);
    const late = new AbortController();
    s.host.faults.push((sc) => {
      if (sc.includes('ln -f')) late.abort();
      return undefined;
    });
    const [r2] = await rotateEndpoint(s.deps, files(newLeaf, newLeaf), { ...fast, signal: late.signal });
    assert.equal(r2.state, 'rolled-back', r2.message);
    assert.match(r2.message, /^cancelled; the old files are back/);
    assertRestored(s, before);
  });

  test('hooks run around the placement, and around the restore when it rolls back', async () => {
    const s = setup();
    const before = s.snapshot();
    s.endpoint.hooks = { before: 'echo rw-mount', after: 'echo ro-mount' };
    s.server.reacts = false;
    const [r] = await rotateEndpoint(s.deps, files(newLeaf, newLeaf), fast);
    assert.equal(r.state, 'rolled-back', r.message);
    const order = s.host.log.filter((l) => l.startsWith('shell: ')).map((l) => l.slice(7));
    assert.deepEqual(order, ['echo rw-mount', 'reload-fake', 'echo ro-mount', 'echo rw-mount', 'reload-fake', 'echo ro-mount']);
    assertRestored(s, before);
  });

  test('one handshake with the new certificate is not enough: it must be served several times in a row', async () => {
    const s = setup();
    const before = s.snapshot();
    // Like nginx's old workers right after a SIGHUP: the new certificate once, then the old one again for good.
    s.server.reacts = false;
    s.host.shell = (command) => {
      if (command !== 'reload-fake') return undefined;
      const old = s.server.served;
      let n = 0;
      s.deps.probe = async () => ({ sha256: n++ === 0 ? sha(newLeaf) : old, chain: [] });
      return { code: 0, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
    };
    const r = await rotate({ ...s.deps, probe: () => s.deps.probe() }, files(newLeaf, newLeaf), fast);
    assert.equal(r.state, 'rolled-back', r.message);
    assert.ok(r.probes.some((p) => p.purpose === 'verify' && p.sha256 === sha(newLeaf)), 'the new certificate was seen once');
    assertRestored(s, before);
  });

  test('renewed on disk but never reloaded: the rollback accepts the old files\' certificate as the old one', async () => {
    const s = setup();
    // The server still serves a certificate older than the file (oldLeaf on disk, `stale` served).
    const stale = pki.issue('rot-stale', { subject: '/CN=web.example.test', issuer: intermediate, ext: leafExt('DNS:web.example.test'), notAfter: 10 * DAY });
    s.server.served = sha(stale);
    s.endpoint.check = { command: 'exit 1', where: 'host' };
    const [r] = await rotateEndpoint(s.deps, files(newLeaf, newLeaf), fast);
    assert.ok(r.findings.some((f) => f.code === 'served-differs'));
    assert.equal(r.state, 'rolled-back', r.message);
    assert.equal(s.server.served, sha(oldLeaf), 'after the restore and reload the old files are what is served');
  });

  test('a failed backup refuses and leaves nothing behind', async () => {
    const s = setup();
    const before = s.snapshot();
    s.host.faults.push((sc) => (sc.includes('cp -p') && sc.includes('certops-backup') ? result(1, 'cp: Read-only file system') : undefined));
    const [r] = await rotateEndpoint(s.deps, files(newLeaf, newLeaf), fast);
    assert.equal(r.state, 'refused');
    assert.match(r.message, /Read-only file system; nothing was changed/);
    assert.deepEqual(s.snapshot(), before);
  });

  test('needs attention when the old certificate does not come back, with what to do; the lock stays for the next command', async () => {
    const s = setup();
    s.endpoint.check = { command: 'exit 1', where: 'host' };
    // The server picks up the new files, then dies before the rollback can be verified.
    s.host.faults.push((sc) => {
      if (sc.includes('cmp -s')) s.server.down = true;
      return undefined;
    });
    const [r] = await rotateEndpoint(s.deps, files(newLeaf, newLeaf), fast);
    assert.equal(r.state, 'needs-attention', r.message);
    assert.ok(r.advice?.some((a) => a.includes('certops probe 127.0.0.1:443 --servername web.example.test --expect-sha256')));
    assert.equal(readFileSync(s.cert, 'utf8'), oldLeaf.pem + intermediate.pem, 'the old files were restored');
    const journal = decodeJournal(readFileSync(lockPath(s.cert), 'utf8'));
    assert.equal(journal?.phase, 'rolling-back');
    // Once the server is back, the next command finishes the rollback.
    s.host.faults.length = 0;
    s.server.down = false;
    s.server.reload();
    const rec = await recoverEndpoint(s.deps, { ...fast, forceRecover: true });
    assert.equal(rec?.state, 'rolled-back', rec?.message);
    assert.match(rec?.message ?? '', /finishing its rollback/);
    assert.equal(existsSync(lockPath(s.cert)), false);
  });

  test('a lock held by a live rotation refuses; the files are untouched', async () => {
    const s = setup();
    const before = s.snapshot();
    const held = { version: 1, id: 'other', kind: 'rotate', who: 'someone@elsewhere', machine: 'elsewhere', pid: 1, host: 'web1', endpoint: 'https', startedAt: new Date().toISOString(), updatedAt: new Date().toISOString(), phase: 'placed', files: [], oldServed: '', newLeaf: '', oldCertFile: '', newCertFile: '' };
    writeFileSync(lockPath(s.cert), JSON.stringify(held));
    const [r] = await rotateEndpoint(s.deps, files(newLeaf, newLeaf), fast);
    assert.equal(r.state, 'refused');
    assert.match(r.message, /another rotation holds .* rotation other by someone@elsewhere/);
    const after = s.snapshot();
    for (const n of Object.keys(before)) assert.equal(after[n], before[n]);
  });

  test('two rotations at once: one gets the lock, the other is refused', async () => {
    const s = setup();
    const s2deps = fakeDeps(s.endpoint, new LocalHost(), s.server, { random: () => 'second' });
    const [a, b] = await Promise.all([rotateEndpoint(s.deps, files(newLeaf, newLeaf), fast), rotateEndpoint(s2deps, files(newLeaf, newLeaf), fast)]);
    const states = [a[a.length - 1].state, b[b.length - 1].state].sort();
    assert.deepEqual(states, ['refused', 'rotated']);
    assert.equal(s.server.served, sha(newLeaf));
  });

  test('paths with spaces, quotes and shell metacharacters are quoted everywhere', async () => {
    const s = setup(`we ird 'dir' $(touch PWNED) \`x\`;`);
    const [r] = await rotateEndpoint(s.deps, files(newLeaf, newLeaf), fast);
    assert.equal(r.state, 'rotated', r.message);
    assert.equal(readFileSync(s.cert, 'utf8'), newLeaf.pem + intermediate.pem);
    assert.equal(existsSync('PWNED') || existsSync(join(s.base, 'PWNED')), false);
  });

  test('rollback of a recorded rotation restores the old files and proves the old certificate is served', async () => {
    const s = setup();
    const before = s.snapshot();
    const [rotated] = await rotateEndpoint(s.deps, files(newLeaf, newLeaf), fast);
    assert.equal(rotated.state, 'rotated');
    const [rb] = await rollbackEndpoint(s.deps, rotated, fast);
    assert.equal(rb.state, 'rotated', rb.message);
    assert.equal(rb.kind, 'rollback');
    assert.equal(rb.rollbackOf, rotated.id);
    const now = s.snapshot();
    for (const n of Object.keys(before)) assert.equal(now[n], before[n], `${n} is the old file again`);
    assert.equal(s.server.served, sha(oldLeaf));
    const again = await rollbackEndpoint(s.deps, rotated, fast);
    assert.equal(again[0].state, 'refused', 'nothing to roll back twice');
  });
});

describe('trust rotation (--ca alone)', () => {
  test('replaces only the CA file when the current certificate verifies against it; refuses a CA file that would orphan it', async () => {
    const s = setup();
    const other = pki.chain('trust-other', 'web.example.test').root;
    const before = s.snapshot();
    const [refused] = await rotateTrustEndpoint(s.deps, { bytes: Buffer.from(other.pem), name: 'other-ca.pem' }, fast);
    assert.equal(refused.state, 'refused');
    assert.match(refused.message, /current certificate does not verify against other-ca\.pem/);
    assert.deepEqual(s.snapshot(), before);
    const bundle = Buffer.from(other.pem + root.pem);
    const [r] = await rotateTrustEndpoint(s.deps, { bytes: bundle, name: 'overlap.pem' }, fast);
    assert.equal(r.state, 'rotated', r.message);
    assert.match(r.message, /the new CA file is in place and the endpoint still serves its certificate/);
    assert.deepEqual(readFileSync(s.ca), bundle);
    assert.equal(readFileSync(s.cert, 'utf8'), oldLeaf.pem + intermediate.pem, 'the certificate stays');
    assert.deepEqual(r.newCa?.map((c) => c.sha256), [sha(other), sha(root)]);
    const [back] = await rollbackEndpoint(s.deps, r, fast);
    assert.equal(back.state, 'rotated', back.message);
    assert.equal(readFileSync(s.ca, 'utf8'), root.pem);
  });
});

describe('interrupted rotations', () => {
  /** Runs a rotation whose connection drops right after the script matching `at` ran. */
  async function interrupted(at: RegExp, serverFollows = true) {
    const s = setup();
    s.server.reacts = serverFollows;
    s.host.faults.push((sc, stdin) => {
      if (!at.test(sc)) return undefined;
      const r = spawnSync('sh', ['-c', sc], { input: stdin ?? Buffer.alloc(0) });
      s.host.dead = true;
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    });
    const [r] = await rotateEndpoint(s.deps, files(newLeaf, newLeaf), fast);
    assert.equal(r.state, 'needs-attention', `the controller lost the host: ${r.message}`);
    s.host.dead = false;
    s.host.faults.length = 0;
    return s;
  }

  test('cut after the backup: the next command releases the lock; nothing had changed', async () => {
    const s = await interrupted(/^cp -p -- /m);
    const rec = await recoverEndpoint(s.deps, { ...fast, forceRecover: true });
    assert.equal(rec?.state, 'rolled-back');
    assert.match(rec?.message ?? '', /had not replaced any file/);
    assert.equal(readFileSync(s.cert, 'utf8'), oldLeaf.pem + intermediate.pem);
    assert.equal(existsSync(lockPath(s.cert)), false);
  });

  test('cut after placement, before the reload: the next rotate rolls it back, then rotates', async () => {
    const s = await interrupted(/ln -f/);
    assert.equal(readFileSync(s.cert, 'utf8'), newLeaf.pem + intermediate.pem, 'the new files were placed');
    // A lock from this machine whose process is gone is abandoned: no --force needed.
    const deps = { ...s.deps, isAlive: () => false };
    const records = await rotateEndpoint(deps, files(newLeaf, newLeaf), fast);
    assert.equal(records.length, 2);
    assert.equal(records[0].kind, 'recover');
    assert.equal(records[0].state, 'rolled-back', records[0].message);
    assert.match(records[0].message, /new certificate is not served .* rolling back/);
    assert.equal(records[1].state, 'rotated', records[1].message);
  });

  test('cut after the reload: the next command verifies and completes', async () => {
    const s = await interrupted(/ln -f/);
    s.server.reload();
    const rec = await recoverEndpoint({ ...s.deps, isAlive: () => false }, fast);
    assert.equal(rec?.state, 'rotated', rec?.message);
    assert.match(rec?.message ?? '', /verified and completed/);
    assert.equal(existsSync(lockPath(s.cert)), false);
    assert.deepEqual(readdirSync(s.dir).filter((n) => n.startsWith('.')), []);
  });

  test('a fresh lock of a live process on another machine is left alone', async () => {
    const s = await interrupted(/ln -f/);
    const rec = await recoverEndpoint({ ...s.deps, machine: 'another-machine' }, fast);
    assert.equal(rec?.state, 'refused');
    assert.match(rec?.message ?? '', /another rotation holds/);
    assert.ok(existsSync(lockPath(s.cert)));
  });
});

describe('checks after verify', () => {
  test('send/expect over TLS (PING → +PONG) and a local command', async () => {
    const server = tls.createServer({ cert: newLeaf.pem, key: newLeaf.keyPem }, (c) => c.on('data', (d: Buffer) => c.write(d.toString().startsWith('PING') ? '+PONG\r\n' : '-ERR\r\n')));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const ep = (check: EndpointEntry['check']): EndpointEntry => ({ name: 'r', probe: { host: '127.0.0.1', port, servername: 'web.example.test' }, files: { cert: '/x' }, reload: { kind: 'none' }, check });
      const host = new LocalHost();
      const ok = await runCheck(ep({ send: 'PING', expect: '+PONG' }), host, 5000);
      assert.deepEqual([ok?.ok, ok?.output.trim()], [true, '+PONG']);
      const bad = await runCheck(ep({ send: 'HELLO', expect: '+PONG' }), host, 500);
      assert.equal(bad?.ok, false);
      assert.match(bad?.output ?? '', /-ERR/);
      const local = await runCheck(ep({ command: 'echo fine; exit 0', where: 'local' }), host);
      assert.deepEqual([local?.ok, local?.output.trim()], [true, 'fine']);
      assert.equal(host.log.length, 0, 'a local check never runs on the host');
    } finally {
      server.close();
    }
  });
});

describe('evidence', () => {
  test('records in JSON and Markdown hold fingerprints and steps, never key material; control characters are escaped', async () => {
    const s = setup();
    s.endpoint.reload = { kind: 'command', command: 'reload-fake' };
    const [r] = await rotateEndpoint(s.deps, files(newLeaf, newLeaf), fast);
    r.reload?.push({ kind: 'command', code: 0, output: 'evil \x1b[31mred\x1b[0m ``` fence' });
    const dir = join(s.base, '.certops', 'rotations');
    const failed = setup();
    failed.server.reacts = false;
    const [rb] = await rotateEndpoint(failed.deps, files(newLeaf, newLeaf), fast);
    writeEvidence(dir, r);
    writeEvidence(dir, rb);
    const written = readdirSync(dir);
    assert.equal(written.length, 4);
    const keyLines = [oldLeaf.keyPem, newLeaf.keyPem].flatMap((k) => k.split('\n').filter((l) => /^[A-Za-z0-9+/=]{20,}$/.test(l)));
    for (const n of written) {
      const text = readFileSync(join(dir, n), 'utf8');
      for (const l of keyLines) assert.ok(!text.includes(l), `${n} holds no key material`);
      assert.ok(!text.includes('PRIVATE KEY'), `${n} names no private key block`);
      assert.ok(!text.includes('\x1b'), `${n} holds no raw escape`);
    }
    const md = renderMarkdown(r);
    assert.match(md, new RegExp(`sha256 \`${sha(newLeaf)}\``));
    assert.match(md, /\| verify \|/);
    assert.match(md, /````\n/, 'the fence is longer than the backticks inside');
    assert.equal(readEvidence(dir, 'web1', 'https').length, 2);
  });
});

describe('fleet', () => {
  test('canary first, then the rest with bounded concurrency, stopping at the first failure', async () => {
    let running = 0;
    let most = 0;
    const order: string[] = [];
    const item = (label: string, ok: boolean) => ({
      label,
      run: async () => {
        order.push(label);
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        return [{ state: ok ? 'rotated' : 'rolled-back', message: label } as never];
      },
    });
    const all = await runFleet([item('a', true), item('b', true), item('c', true), item('d', true), item('e', true)], { canary: 1, concurrency: 2 });
    assert.deepEqual(all.map((x) => x.state), ['rotated', 'rotated', 'rotated', 'rotated', 'rotated']);
    assert.equal(order[0], 'a');
    assert.equal(most, 2);
    const stopped = await runFleet([item('a', false), item('b', true)], { canary: 1 });
    assert.deepEqual(stopped.map((x) => x.state), ['rolled-back', 'skipped']);
  });
});

describe('certops rotate / rollback usage', () => {
  async function run(argv: string[]) {
    let out = '';
    let err = '';
    const code = await main(argv, (s) => void (out += s), (s) => void (err += s), { env: {}, color: false });
    return { code, out, err };
  }
  test('bad usage is one line and exit 2, before any connection', async () => {
    const s = setup();
    const inventory = join(s.base, 'certops.json');
    writeFileSync(inventory, JSON.stringify({ hosts: [{ name: 'web1', ssh: { host: '127.0.0.1', port: 1 }, endpoints: [{ ...s.endpoint }] }] }));
    const cases: [string[], RegExp][] = [
      [['rotate', '--cert', s.cert], /expected HOST\/ENDPOINT/],
      [['rotate', 'web1/https'], /--cert FILE is required/],
      [['rotate', 'web1/nope', '--cert', s.cert, '--inventory', inventory], /host "web1" has no endpoint "nope"/],
      [['rotate', 'web1/https', '--cert', join(s.base, 'missing.pem'), '--inventory', inventory], /missing\.pem: no such file/],
      [['rotate', 'web1/https', '--cert', s.cert, '--concurrency', '0', '--inventory', inventory], /at least 1/],
      [['rollback', 'web1/https', '--inventory', inventory], /no completed rotation of web1\/https is recorded/],
      [['rollback', 'web1', '--inventory', inventory], /expected one HOST\/ENDPOINT/],
    ];
    for (const [argv, re] of cases) {
      const r = await run(argv);
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.out}${r.err}`);
      assert.match(r.err, re);
      assert.equal(r.err.trim().split('\n').length, 1);
    }
  });
});
