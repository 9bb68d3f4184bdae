/**
 * The lab: real OpenSSH sshd and nginx processes on loopback, started and
 * stopped by the tests themselves. Packages are installed with apt when missing;
 * anything that cannot be set up throws, so a lab test never passes by skipping.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ensureDebianPackages, LAB_PACKAGES } from '../tools/debian.mjs';

/** Installs sshd, nginx, stunnel4 and openssl when they are missing. */
export function ensureLabPackages(): void {
  ensureDebianPackages(LAB_PACKAGES as [string, string][]);
}

/** A fresh private directory for one lab server; removed by the server's stop(). */
export function labDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `certops-lab-${name}-`));
}

/** A free TCP port on `host`. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Resolves once something accepts TCP connections on host:port, or rejects after `ms`. */
export async function waitForPort(host: string, port: number, ms = 10_000, why?: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${ms} ms${why ? `: ${why()}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function readIfExists(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function pidFrom(file: string): number {
  const pid = Number(readIfExists(file).trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no pid in ${file}`);
  return pid;
}

async function killAndWait(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** A running sshd that accepts the generated user key. */
export interface SshdLab {
  host: string;
  port: number;
  /** The login name (the user running the tests). */
  username: string;
  /** The client's private key (OpenSSH format, ed25519, no passphrase). */
  userKeyPath: string;
  /** The host's public key as a known_hosts line for `[host]:port`. */
  knownHostsLine: string;
  /** The host key's SHA-256 fingerprint as ssh-keygen prints it (`SHA256:...`). */
  hostKeyFingerprint: string;
  dir: string;
  log(): string;
  stop(): Promise<void>;
}

/** Starts OpenSSH sshd on loopback with fresh host and user keys. */
export async function startSshd(opts: { host?: string; port?: number } = {}): Promise<SshdLab> {
  ensureLabPackages();
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? (await freePort(host));
  const dir = labDir('sshd');
  const keygen = (file: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'certops-lab', '-f', file]);
  keygen(join(dir, 'hostkey'));
  keygen(join(dir, 'userkey'));
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'userkey.pub')), { mode: 0o600 });
  mkdirSync('/run/sshd', { recursive: true });
  const config = [
    `Port ${port}`,
    `ListenAddress ${host}`,
    `HostKey ${join(dir, 'hostkey')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'StrictModes no',
    'UsePAM no',
    `PidFile ${join(dir, 'sshd.pid')}`,
  ].join('\n');
  writeFileSync(join(dir, 'sshd_config'), `${config}\n`);
  const logFile = join(dir, 'sshd.log');
  const r = spawnSync('/usr/sbin/sshd', ['-f', join(dir, 'sshd_config'), '-E', logFile], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sshd failed to start (${r.status}): ${r.stderr}${readIfExists(logFile)}`);
  await waitForPort(host, port, 10_000, () => readIfExists(logFile));
  const hostPub = readFileSync(join(dir, 'hostkey.pub'), 'utf8').trim().split(/\s+/);
  const fp = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'hostkey.pub')], { encoding: 'utf8' }).split(/\s+/)[1];
  return {
    host,
    port,
    username: userInfo().username,
    userKeyPath: join(dir, 'userkey'),
    knownHostsLine: `[${host}]:${port} ${hostPub[0]} ${hostPub[1]}`,
    hostKeyFingerprint: fp,
    dir,
    log: () => readIfExists(logFile),
    async stop() {
      await killAndWait(pidFrom(join(dir, 'sshd.pid')));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A running nginx serving TLS from the given certificate and key files. */
export interface NginxLab {
  host: string;
  port: number;
  dir: string;
  /** The files nginx reads; rotation tests replace them and call reload(). */
  certFile: string;
  keyFile: string;
  /** Sends SIGHUP, as an operator's runbook does; resolves once the signal is sent, not once it took effect. */
  reload(): void;
  /** nginx's error log (where a failed reload is reported). */
  errorLog(): string;
  stop(): Promise<void>;
}

/**
 * Starts nginx on loopback serving `cert` and `key` (PEM text), optionally
 * requiring client certificates issued by `clientCa`.
 */
export async function startNginx(opts: { cert: string; key: string; host?: string; port?: number; clientCa?: string }): Promise<NginxLab> {
  ensureLabPackages();
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? (await freePort(host));
  const dir = labDir('nginx');
  mkdirSync(join(dir, 'tmp'));
  const certFile = join(dir, 'server.crt');
  const keyFile = join(dir, 'server.key');
  writeFileSync(certFile, opts.cert);
  writeFileSync(keyFile, opts.key, { mode: 0o600 });
  const mtls = opts.clientCa
    ? (writeFileSync(join(dir, 'client-ca.crt'), opts.clientCa), `ssl_client_certificate ${join(dir, 'client-ca.crt')}; ssl_verify_client on;`)
    : '';
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${join(dir, 'tmp')};`).join(' ');
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  writeFileSync(join(dir, 'nginx.conf'), `${user}
daemon on; pid ${join(dir, 'nginx.pid')}; error_log ${join(dir, 'error.log')} info;
worker_processes 1;
events {}
http { access_log off; ${temp}
  server { listen ${host.includes(':') ? `[${host}]` : host}:${port} ssl; ssl_certificate ${certFile}; ssl_certificate_key ${keyFile}; ${mtls}
           location / { return 200 "ok\\n"; } } }
`);
  const errorLog = () => readIfExists(join(dir, 'error.log'));
  const r = spawnSync('/usr/sbin/nginx', ['-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nginx failed to start (${r.status}): ${r.stderr}${errorLog()}`);
  await waitForPort(host, port, 10_000, errorLog);
  return {
    host,
    port,
    dir,
    certFile,
    keyFile,
    reload: () => process.kill(pidFrom(join(dir, 'nginx.pid')), 'SIGHUP'),
    errorLog,
    async stop() {
      await killAndWait(pidFrom(join(dir, 'nginx.pid')));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
