// Rotation faults over a real sshd and nginx: the controlling process killed mid-rotation and the
// next command finishing the job from the journal in the lock file; a lock held by another
// rotation; a read-only directory; a full filesystem; paths with spaces and shell metacharacters.
import assert from 'node:assert/strict';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { probeTls } from '../../server/src/probe';
import { leafExt, Pki } from '../fixtures/pki';
import { NginxLab, SshHostLab, startNginx, startSshHost, writeInventory } from './harness';
import { labCa, sha256Hex, startPollingServer, writeSshClientFiles } from './common';

const pki = new Pki();
const { root, inter } = labCa(pki, 'Faults');
const san = 'DNS:lab.certops.test';
const oldLeaf = pki.issue('old', { subject: '/CN=lab.certops.test', issuer: inter, ext: leafExt(san), notAfter: 60 * 86400 });
const newLeaf = pki.issue('new', { subject: '/CN=lab.certops.test', issuer: inter, ext: leafExt(san), notAfter: 200 * 86400 });
const newFull = pki.write('new-full.pem', newLeaf.pem + inter.pem, 0o644);

let host: SshHostLab;
let nginx: NginxLab;
let dir: string;
let inventory: string;
let knownHosts: string;
let sshConfig: string;
const mounts: string[] = [];
const children: ChildProcess[] = [];
let weird: { port: number; cert: string; key: string };

const served = async (port = nginx.port) => sha256Hex((await probeTls({ host: '127.0.0.1', port, servername: 'lab.certops.test' })).chain[0].der);
const cliArgs = (...args: string[]) => [resolve('dist/cli.js'), ...args, '--inventory', inventory, '--ssh-config', sshConfig, '--known-hosts', knownHosts];
const env = () => ({ ...process.env, NO_COLOR: '1', SSH_AUTH_SOCK: '' });
const cli = (...args: string[]) => spawnSync(process.execPath, cliArgs(...args), { encoding: 'utf8', env: env(), stdin: 'ignore' } as never) as unknown as { status: number; stdout: string; stderr: string };
type Doc = { endpoints: { state: string; message: string; records: { kind: string; state: string; message: string }[] }[] };

/** A small tmpfs holding copies of the served files, for the read-only and full-disk cases. */
function tmpfs(name: string, sizeKb: number): string {
  const d = join(dir, name);
  mkdirSync(d);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k`, 'tmpfs', d], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount tmpfs failed: ${r.stderr}`);
  mounts.push(d);
  copyFileSync(nginx.certFile, join(d, 'server.crt'));
  copyFileSync(nginx.keyFile, join(d, 'server.key'));
  return d;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'certops-faults-lab-'));
  chmodSync(dir, 0o755);
  [host, nginx] = await Promise.all([startSshHost({ address: '127.0.0.11', users: ['root'] }), startNginx({ cert: oldLeaf.pem + inter.pem, key: oldLeaf.keyPem })]);
  chmodSync(nginx.certFile, 0o644);
  ({ sshConfig, knownHosts } = writeSshClientFiles(dir, [host.knownHostsLine]));
  const caFile = join(dir, 'ca.crt');
  writeFileSync(caFile, root.pem);
  const ro = tmpfs('ro', 1024);
  spawnSync('mount', ['-o', 'remount,ro', ro]);
  const full = tmpfs('full', 64);
  // A directory whose name the shell would love to interpret, served by the polling fixture (no config file to escape).
  const odd = join(dir, `we ird 'q' $(touch PWNED) ;&|*`);
  mkdirSync(odd);
  const cert = join(odd, 'c $x.crt');
  const key = join(odd, "k 'y'.key");
  writeFileSync(cert, oldLeaf.pem + inter.pem, { mode: 0o644 });
  writeFileSync(key, oldLeaf.keyPem, { mode: 0o600 });
  weird = { port: await startPollingServer(children, join(dir, 'fixture.log'), ['--cert', cert, '--key', key, '--interval-ms', '500']), cert, key };

  const pidFile = join(nginx.dir, 'nginx.pid');
  const base = {
    probe: { host: '127.0.0.1', port: nginx.port, servername: 'lab.certops.test' },
    files: { cert: nginx.certFile, key: nginx.keyFile, ca: caFile },
    reload: { kind: 'signal', pidFile },
  };
  inventory = writeInventory(dir, {
    hosts: [
      {
        name: 'web',
        ssh: { host: host.host, port: host.port, user: 'root', identityFile: host.userKeyPath },
        endpoints: [
          { name: 'https', ...base },
          // The same files, reloaded by a command that takes long enough to kill the controller during it.
          { name: 'slow', ...base, reload: { kind: 'command', command: 'sleep 20' } },
          { name: 'ro', ...base, files: { cert: join(ro, 'server.crt'), key: join(ro, 'server.key'), ca: caFile } },
          { name: 'full', ...base, files: { cert: join(full, 'server.crt'), key: join(full, 'server.key'), ca: caFile } },
          { name: 'weird', ...base, probe: { ...base.probe, port: weird.port }, files: { cert: weird.cert, key: weird.key, ca: caFile }, reload: { kind: 'watch', intervalSeconds: 1 } },
        ],
      },
    ],
  });
});

after(async () => {
  for (const c of children) c.kill();
  for (const m of mounts) spawnSync('umount', [m]);
  await Promise.all([host?.stop(), nginx?.stop()]);
  pki.dispose();
});

test('the controlling process killed mid-rotation: the next command finds the journal, rolls the placed files back, then rotates', async () => {
  const original = readFileSync(nginx.certFile);
  const child = spawn(process.execPath, cliArgs('rotate', 'web/slow', '--cert', newFull, '--key', newLeaf.keyPath, '--json'), { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  await new Promise<void>((resolveKilled, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // Killed while the server is being reloaded: the new files are in place, nothing else is done.
      if (/"step":"reload","status":"start"/.test(stderr)) child.kill('SIGKILL');
    });
    child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolveKilled() : reject(new Error(`the rotation ended by itself: ${stderr}`))));
  });
  assert.equal(readFileSync(nginx.certFile, 'utf8'), newLeaf.pem + inter.pem, 'the new files were placed');
  const lock = join(nginx.dir, '.server.crt.certops-lock');
  assert.match(readFileSync(lock, 'utf8'), /"phase":"placed"/);
  assert.equal(await served(), sha256Hex(oldLeaf.der), 'nginx was never told');

  const r = cli('rotate', 'web/https', '--cert', newFull, '--key', newLeaf.keyPath, '--json');
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const doc = JSON.parse(r.stdout) as Doc;
  const [recovered, rotated] = doc.endpoints[0].records;
  assert.equal(recovered.kind, 'recover');
  assert.equal(recovered.state, 'rolled-back');
  assert.match(recovered.message, /the new files are in place but the new certificate is not served .*rolling back/);
  assert.equal(rotated.state, 'rotated', rotated.message);
  assert.equal(await served(), sha256Hex(newLeaf.der));
  assert.equal(existsSync(lock), false);
  // The recovery's restore really put the old file back before the new rotation backed it up again.
  const backups = readdirSync(nginx.dir).filter((n) => n.startsWith('server.crt.certops-backup-')).sort();
  assert.deepEqual(readFileSync(join(nginx.dir, backups[backups.length - 1])), original);
  const back = cli('rollback', 'web/https');
  assert.equal(back.status, 0, `${back.stdout}\n${back.stderr}`);
  assert.equal(await served(), sha256Hex(oldLeaf.der));
});

test('a lock held by another live rotation refuses (exit 2, nothing touched); --force-recover takes it over', async () => {
  const lock = join(nginx.dir, '.server.crt.certops-lock');
  const now = new Date().toISOString();
  writeFileSync(lock, JSON.stringify({ version: 1, id: '20261203T000000Z-other', kind: 'rotate', who: 'ops@elsewhere', machine: `not-${hostname()}`, pid: 1, host: 'web', endpoint: 'https', startedAt: now, updatedAt: now, phase: 'locked', files: [], oldServed: '', newLeaf: '', oldCertFile: '', newCertFile: '' }));
  const before = readFileSync(nginx.certFile);
  const r = cli('rotate', 'web/https', '--cert', newFull, '--key', newLeaf.keyPath);
  assert.equal(r.status, 2, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /another rotation holds .* rotation 20261203T000000Z-other by ops@elsewhere/);
  assert.deepEqual(readFileSync(nginx.certFile), before);
  const forced = cli('rotate', 'web/https', '--cert', newFull, '--key', newLeaf.keyPath, '--force-recover');
  assert.equal(forced.status, 0, `${forced.stdout}\n${forced.stderr}`);
  assert.match(forced.stdout, /interrupted rotate 20261203T000000Z-other .* had not replaced any file; its lock was released/);
  assert.equal(await served(), sha256Hex(newLeaf.der));
  assert.equal(cli('rollback', 'web/https').status, 0);
});

test('a read-only directory and a full filesystem are refused before any change', async () => {
  for (const [ep, why] of [['ro', /is not writable by root/], ['full', /KiB free .* need/]] as const) {
    const d = join(dir, ep);
    const before = readdirSync(d).map((n) => `${n}:${readFileSync(join(d, n), 'base64')}`);
    const r = cli('rotate', `web/${ep}`, '--cert', newFull, '--key', newLeaf.keyPath);
    assert.equal(r.status, 2, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, why);
    assert.deepEqual(readdirSync(d).map((n) => `${n}:${readFileSync(join(d, n), 'base64')}`), before, `${ep}: nothing changed`);
  }
});

test('paths with spaces, quotes and shell metacharacters: rotated, nothing interpreted', async () => {
  const r = cli('rotate', 'web/weird', '--cert', newFull, '--key', newLeaf.keyPath);
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.equal(readFileSync(weird.cert, 'utf8'), newLeaf.pem + inter.pem);
  assert.equal(readFileSync(weird.key, 'utf8'), newLeaf.keyPem);
  assert.equal(await served(weird.port), sha256Hex(newLeaf.der));
  assert.equal(existsSync(join(dir, 'PWNED')) || existsSync('PWNED') || existsSync('/root/PWNED'), false);
});

/** Kills the per-connection sshd processes of the lab host: every SSH connection to it drops. */
function cutConnections(): number {
  const master = readFileSync(join(host.dir, 'sshd.pid'), 'utf8').trim();
  const r = spawnSync('pgrep', ['-P', master], { encoding: 'utf8' });
  const pids = r.stdout.split('\n').filter(Boolean).map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  return pids.length;
}

for (const [when, step] of [['between backup and place', 'lock and backup'], ['between place and reload', 'place']] as const) {
  test(`the SSH connection cut ${when}: nothing is lost; the run or the next command ends in a verified state`, async () => {
    const original = { cert: readFileSync(nginx.certFile), key: readFileSync(nginx.keyFile) };
    const child = spawn(process.execPath, cliArgs('rotate', 'web/https', '--cert', newFull, '--key', newLeaf.keyPath, '--json'), { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    let cut = 0;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((done) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (!cut && new RegExp(`"step":"${step}","status":"ok"`).test(stderr)) cut = cutConnections();
      });
      child.on('exit', (c) => done(c));
    });
    assert.ok(cut > 0, `the connection was cut: ${stderr}`);
    const first = JSON.parse(stdout) as Doc;
    const state = first.endpoints[0].state;
    assert.ok(['rotated', 'rolled-back', 'needs-attention'].includes(state), `${code} ${state}: ${first.endpoints[0].message}`);
    // The next command on the endpoint finishes whatever was left: afterwards the files and the
    // served certificate agree, either all new or all old (byte for byte), and no lock is left.
    const next = cli('rotate', 'web/https', '--cert', newFull, '--key', newLeaf.keyPath, '--json');
    const servedNow = await served();
    if (servedNow === sha256Hex(newLeaf.der)) {
      assert.equal(readFileSync(nginx.certFile, 'utf8'), newLeaf.pem + inter.pem);
      assert.equal(readFileSync(nginx.keyFile, 'utf8'), newLeaf.keyPem);
    } else {
      assert.fail(`after the next command the old certificate is still served: ${next.stdout}${next.stderr}`);
    }
    assert.equal(existsSync(join(nginx.dir, '.server.crt.certops-lock')), false);
    assert.deepEqual(readdirSync(nginx.dir).filter((n) => n.startsWith('.')), []);
    // Back to the start for the next test, proven the same way.
    const back = cli('rotate', 'web/https', '--cert', pki.write(`old-${step.replace(/ /g, '-')}.pem`, original.cert), '--key', pki.write(`old-${step.replace(/ /g, '-')}.key`, original.key), '--allow-earlier-expiry');
    assert.equal(back.status, 0, `${back.stdout}\n${back.stderr}`);
    assert.deepEqual(readFileSync(nginx.certFile), original.cert);
  });
}
