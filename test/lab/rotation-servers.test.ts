// Rotation against more real servers over a real sshd: stunnel reloaded by SIGHUP sent by exact
// process name; PostgreSQL reloaded by SIGHUP from its postmaster.pid and probed with STARTTLS
// through the SSH connection (its key must stay owned by postgres and 0600); Redis reloaded by its
// own command (CONFIG SET tls-cert-file through redis-cli) and checked with PING → +PONG; apache2
// (mod_ssl, its own configuration file) reloaded by `apache2 -k graceful` as a command.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { probeTls } from '../../server/src/probe';
import { leafExt, Pki } from '../fixtures/pki';
import { ensureLabPackages, freePort, PostgresLab, SshHostLab, startPostgres, startSshHost, waitForPort, writeInventory } from './harness';
import { labCa, runCli, sha256Hex, writeSshClientFiles } from './common';

const pki = new Pki();
const { root, inter } = labCa(pki, 'Servers');
const leaf = (name: string, cn: string, days: number) => pki.issue(name, { subject: `/CN=${cn}`, issuer: inter, ext: leafExt(`DNS:${cn}`), notAfter: days * 86400 });
const tunOld = leaf('tun-old', 'tunnel.certops.test', 60);
const tunNew = leaf('tun-new', 'tunnel.certops.test', 200);
const pgOld = leaf('pg-old', 'db.certops.test', 60);
const pgNew = leaf('pg-new', 'db.certops.test', 200);
const redisOld = leaf('redis-old', 'cache.certops.test', 60);
const redisNew = leaf('redis-new', 'cache.certops.test', 200);
const webOld = leaf('web-old', 'www.certops.test', 60);
const webNew = leaf('web-new', 'www.certops.test', 200);
// A name of our own for the stunnel process, so the signal by name reaches only this test's stunnel.
const STUNNEL_NAME = 'certops-stunnel';

let host: SshHostLab;
let pg: PostgresLab;
let dir: string;
let inventory: string;
let knownHosts: string;
let sshConfig: string;
let tunnel: { port: number; cert: string; key: string; pidFile: string };
let redis: { port: number; cert: string; key: string; pidFile: string };
let apache: { port: number; cert: string; key: string; pidFile: string; conf: string };

const cli = (...args: string[]) => runCli([...args, '--inventory', inventory, '--ssh-config', sshConfig, '--known-hosts', knownHosts]);

async function startStunnel(): Promise<typeof tunnel> {
  ensureLabPackages();
  const d = join(dir, 'stunnel');
  execFileSync('mkdir', ['-p', d]);
  const port = await freePort();
  const cert = join(d, 'stunnel.pem');
  const key = join(d, 'stunnel.key');
  const pidFile = join(d, 'stunnel.pid');
  writeFileSync(cert, tunOld.pem + inter.pem, { mode: 0o644 });
  writeFileSync(key, tunOld.keyPem, { mode: 0o600 });
  writeFileSync(join(d, 'stunnel.conf'), [`pid = ${pidFile}`, 'foreground = no', `output = ${join(d, 'stunnel.log')}`, '[svc]', `accept = 127.0.0.1:${port}`, `connect = 127.0.0.1:9`, `cert = ${cert}`, `key = ${key}`, ''].join('\n'));
  const binary = join(d, STUNNEL_NAME);
  symlinkSync('/usr/bin/stunnel4', binary);
  const r = spawnSync(binary, [join(d, 'stunnel.conf')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`stunnel failed to start: ${r.stderr}`);
  await waitForPort('127.0.0.1', port);
  return { port, cert, key, pidFile };
}

async function startRedis(): Promise<typeof redis> {
  ensureLabPackages();
  const d = join(dir, 'redis');
  execFileSync('mkdir', ['-p', d]);
  const port = await freePort();
  const cert = join(d, 'redis.crt');
  const key = join(d, 'redis.key');
  const pidFile = join(d, 'redis.pid');
  writeFileSync(cert, redisOld.pem + inter.pem, { mode: 0o644 });
  writeFileSync(key, redisOld.keyPem, { mode: 0o600 });
  const r = spawnSync('/usr/bin/redis-server', ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--tls-cert-file', cert, '--tls-key-file', key,
    '--tls-auth-clients', 'no', '--daemonize', 'yes', '--pidfile', pidFile, '--dir', d, '--save', '', '--appendonly', 'no', '--logfile', join(d, 'redis.log')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`redis-server failed to start: ${r.stderr}${r.stdout}`);
  await waitForPort('127.0.0.1', port);
  return { port, cert, key, pidFile };
}

async function startApache(): Promise<typeof apache> {
  ensureLabPackages();
  const d = join(dir, 'apache');
  execFileSync('mkdir', ['-p', d]);
  chmodSync(d, 0o755);
  const port = await freePort();
  const cert = join(d, 'apache.crt');
  const key = join(d, 'apache.key');
  const pidFile = join(d, 'httpd.pid');
  const conf = join(d, 'httpd.conf');
  writeFileSync(cert, webOld.pem + inter.pem, { mode: 0o644 });
  writeFileSync(key, webOld.keyPem, { mode: 0o600 });
  const mod = (m: string) => `LoadModule ${m}_module /usr/lib/apache2/modules/mod_${m}.so`;
  writeFileSync(conf, [
    'ServerRoot /etc/apache2', 'LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so', mod('authz_core'), mod('socache_shmcb'), mod('ssl'),
    'ServerName localhost', `Listen 127.0.0.1:${port}`, `PidFile ${pidFile}`, `ErrorLog ${join(d, 'error.log')}`, `Mutex file:${d}`, `DefaultRuntimeDir ${d}`,
    'User www-data', 'Group www-data', `DocumentRoot ${d}`,
    `<VirtualHost 127.0.0.1:${port}>`, '  SSLEngine on', `  SSLCertificateFile ${cert}`, `  SSLCertificateKeyFile ${key}`, '</VirtualHost>', '',
  ].join('\n'));
  const r = spawnSync('/usr/sbin/apache2', ['-f', conf, '-k', 'start'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`apache2 failed to start: ${r.stderr}${r.stdout}`);
  await waitForPort('127.0.0.1', port);
  return { port, cert, key, pidFile, conf };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'certops-servers-lab-'));
  chmodSync(dir, 0o755);
  [host, pg] = await Promise.all([startSshHost({ address: '127.0.0.12', users: ['root'] }), startPostgres({ cert: pgOld.pem + inter.pem, key: pgOld.keyPem })]);
  tunnel = await startStunnel();
  redis = await startRedis();
  apache = await startApache();
  ({ sshConfig, knownHosts } = writeSshClientFiles(dir, [host.knownHostsLine]));
  const caFile = join(dir, 'ca.crt');
  writeFileSync(caFile, root.pem);
  inventory = writeInventory(dir, {
    hosts: [
      {
        name: 'db',
        ssh: { host: host.host, port: host.port, user: 'root', identityFile: host.userKeyPath },
        endpoints: [
          {
            name: 'tunnel',
            probe: { host: '127.0.0.1', port: tunnel.port, servername: 'tunnel.certops.test' },
            files: { cert: tunnel.cert, key: tunnel.key, ca: caFile },
            reload: { kind: 'signal', signal: 'HUP', process: STUNNEL_NAME },
          },
          {
            name: 'apache',
            probe: { host: '127.0.0.1', port: apache.port, servername: 'www.certops.test' },
            files: { cert: apache.cert, key: apache.key, ca: caFile },
            reload: { kind: 'command', command: `/usr/sbin/apache2 -f ${apache.conf} -k graceful` },
          },
          {
            name: 'redis',
            probe: { host: '127.0.0.1', port: redis.port, servername: 'cache.certops.test' },
            files: { cert: redis.cert, key: redis.key, ca: caFile },
            reload: { kind: 'command', command: `redis-cli --tls --insecure -h 127.0.0.1 -p ${redis.port} CONFIG SET tls-cert-file ${redis.cert}` },
            check: { send: 'PING', expect: '+PONG' },
          },
          {
            name: 'postgres',
            probe: { host: '127.0.0.1', port: pg.port, servername: 'db.certops.test', via: 'ssh', starttls: 'postgres' },
            files: { cert: pg.certFile, key: pg.keyFile, ca: caFile },
            reload: { kind: 'signal', signal: 'HUP', pidFile: join(pg.dir, 'data', 'postmaster.pid') },
          },
        ],
      },
    ],
  });
});

after(async () => {
  if (apache) spawnSync('/usr/sbin/apache2', ['-f', apache.conf, '-k', 'stop']);
  for (const pidFile of [tunnel?.pidFile, redis?.pidFile]) {
    try {
      if (pidFile) process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  await Promise.all([host?.stop(), pg?.stop()]);
  pki.dispose();
});

test('stunnel, SIGHUP by exact process name: rotated and verified', async () => {
  const r = cli('rotate', 'db/tunnel', '--cert', pki.write('tun.pem', tunNew.pem + inter.pem, 0o644), '--key', tunNew.keyPath);
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /db\/tunnel\s+rotated/);
  const served = await probeTls({ host: '127.0.0.1', port: tunnel.port, servername: 'tunnel.certops.test' });
  assert.equal(sha256Hex(served.chain[0].der), sha256Hex(tunNew.der));
});

test('PostgreSQL, SIGHUP from postmaster.pid, probed with STARTTLS through SSH: the key stays owned by postgres, 0600', async () => {
  const pgUid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const r = cli('rotate', 'db/postgres', '--cert', pki.write('pg.pem', pgNew.pem + inter.pem, 0o644), '--key', pgNew.keyPath, '--json');
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}\n${pg.log()}`);
  const served = await probeTls({ host: '127.0.0.1', port: pg.port, servername: 'db.certops.test', starttls: 'postgres' });
  assert.equal(sha256Hex(served.chain[0].der), sha256Hex(pgNew.der));
  const key = statSync(pg.keyFile);
  assert.equal(key.uid, pgUid);
  assert.equal(key.mode & 0o777, 0o600);
  assert.equal(statSync(pg.certFile).uid, pgUid);
  assert.equal(readFileSync(pg.keyFile, 'utf8'), pgNew.keyPem);
});

test("Redis, reloaded by its own command (CONFIG SET tls-cert-file through redis-cli), checked with PING → +PONG", async () => {
  const r = cli('rotate', 'db/redis', '--cert', pki.write('redis.pem', redisNew.pem + inter.pem, 0o644), '--key', redisNew.keyPath, '--json');
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const doc = JSON.parse(r.stdout) as { endpoints: { records: { reload: { output: string }[]; check: { ok: boolean; output: string } }[] }[] };
  const rec = doc.endpoints[0].records[0];
  assert.match(rec.reload[0].output, /^OK/);
  assert.deepEqual([rec.check.ok, rec.check.output.trim()], [true, '+PONG']);
  const served = await probeTls({ host: '127.0.0.1', port: redis.port, servername: 'cache.certops.test' });
  assert.equal(sha256Hex(served.chain[0].der), sha256Hex(redisNew.der));
});

test('apache2 with mod_ssl, reloaded by "apache2 -k graceful" as a command: rotated and verified', async () => {
  const r = cli('rotate', 'db/apache', '--cert', pki.write('apache.pem', webNew.pem + inter.pem, 0o644), '--key', webNew.keyPath);
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const served = await probeTls({ host: '127.0.0.1', port: apache.port, servername: 'www.certops.test' });
  assert.equal(sha256Hex(served.chain[0].der), sha256Hex(webNew.der));
});
