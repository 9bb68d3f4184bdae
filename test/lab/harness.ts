/**
 * The lab: real OpenSSH sshd, ssh-agent, nginx and PostgreSQL processes on loopback, started and
 * stopped by the tests themselves. Packages are installed with apt when missing;
 * anything that cannot be set up throws, so a lab test never passes by skipping.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  /** The login name (the first of `users`; by default the user running the tests). */
  username: string;
  /** The client's private key (OpenSSH format, ed25519, no passphrase), authorized for every user of the host. */
  userKeyPath: string;
  /** The host's public key as a known_hosts line for `[host]:port`. */
  knownHostsLine: string;
  /** The host key's SHA-256 fingerprint as ssh-keygen prints it (`SHA256:...`). */
  hostKeyFingerprint: string;
  dir: string;
  log(): string;
  stop(): Promise<void>;
}

/** An sshd "host" of the lab, with what the SSH and inventory tests need. */
export interface SshHostLab extends SshdLab {
  /** The host key's public half, `TYPE BASE64`. */
  hostPublicKey: string;
  /** Appends an OpenSSH public key line to the host's authorized_keys (for every user). */
  authorize(publicKeyLine: string): void;
  /** Replaces the host key with a new one and restarts sshd on the same address and port. */
  rotateHostKey(): Promise<void>;
  /** A `Host ALIAS` block for an ssh_config file that reaches this host as `user` with the lab key. */
  sshConfig(alias: string, user?: string): string;
}

/** Options of startSshHost. */
export interface SshHostOptions {
  /** Loopback address to listen on (default 127.0.0.1; the whole 127.0.0.0/8 works on Linux). */
  address?: string;
  port?: number;
  /** Login names allowed; the first is `username`. Default: the user running the tests. */
  users?: string[];
  /** Also accept passwords (and keyboard-interactive) for users that have one. */
  passwordAuth?: boolean;
  /** sshd's LogLevel (DEBUG1 logs each forwarded connection: how a test proves a jump went through this host). */
  logLevel?: string;
}

const keygen = (file: string, passphrase = '') => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'certops-lab', '-f', file]);

/** A fresh ed25519 key pair in `dir` (private key 0600), optionally encrypted with `passphrase`. */
export function generateUserKey(dir: string, name: string, passphrase = ''): { path: string; publicKey: string } {
  const path = join(dir, name);
  keygen(path, passphrase);
  return { path, publicKey: readFileSync(`${path}.pub`, 'utf8').trim() };
}

/** Starts OpenSSH sshd on a loopback address with fresh host and user keys. */
export async function startSshHost(opts: SshHostOptions = {}): Promise<SshHostLab> {
  ensureLabPackages();
  const host = opts.address ?? '127.0.0.1';
  const port = opts.port ?? (await freePort(host));
  const users = opts.users ?? [userInfo().username];
  const dir = labDir('sshd');
  // sshd reads authorized_keys as the logging-in user, so the lab directory must be traversable by lab users.
  chmodSync(dir, 0o755);
  keygen(join(dir, 'hostkey'));
  keygen(join(dir, 'userkey'));
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'userkey.pub')), { mode: 0o644 });
  mkdirSync('/run/sshd', { recursive: true });
  const config = [
    `Port ${port}`,
    `ListenAddress ${host}`,
    `HostKey ${join(dir, 'hostkey')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    `AllowUsers ${users.join(' ')}`,
    `PasswordAuthentication ${opts.passwordAuth ? 'yes' : 'no'}`,
    `KbdInteractiveAuthentication no`,
    'PermitRootLogin prohibit-password',
    'AllowTcpForwarding yes',
    // Hosts without sudo are read over SFTP, as on a stock OpenSSH server.
    'Subsystem sftp internal-sftp',
    `LogLevel ${opts.logLevel ?? 'INFO'}`,
    'StrictModes no',
    'UsePAM no',
    `PidFile ${join(dir, 'sshd.pid')}`,
  ].join('\n');
  writeFileSync(join(dir, 'sshd_config'), `${config}\n`);
  const logFile = join(dir, 'sshd.log');
  const launch = async () => {
    const r = spawnSync('/usr/sbin/sshd', ['-f', join(dir, 'sshd_config'), '-E', logFile], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`sshd failed to start (${r.status}): ${r.stderr}${readIfExists(logFile)}`);
    await waitForPort(host, port, 10_000, () => readIfExists(logFile));
  };
  await launch();
  const lab: SshHostLab = {
    host,
    port,
    username: users[0],
    userKeyPath: join(dir, 'userkey'),
    knownHostsLine: '',
    hostKeyFingerprint: '',
    hostPublicKey: '',
    dir,
    log: () => readIfExists(logFile),
    authorize(line) {
      appendFileSync(join(dir, 'authorized_keys'), `${line.trim()}\n`);
    },
    async rotateHostKey() {
      await killAndWait(pidFrom(join(dir, 'sshd.pid')));
      rmSync(join(dir, 'hostkey'), { force: true });
      rmSync(join(dir, 'hostkey.pub'), { force: true });
      keygen(join(dir, 'hostkey'));
      describeHostKey();
      await launch();
    },
    sshConfig(alias, user = users[0]) {
      return [`Host ${alias}`, `  HostName ${host}`, `  Port ${port}`, `  User ${user}`, `  IdentityFile ${join(dir, 'userkey')}`, `  IdentitiesOnly yes`, ''].join('\n');
    },
    async stop() {
      await killAndWait(pidFrom(join(dir, 'sshd.pid')));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const describeHostKey = () => {
    const hostPub = readFileSync(join(dir, 'hostkey.pub'), 'utf8').trim().split(/\s+/);
    lab.hostPublicKey = `${hostPub[0]} ${hostPub[1]}`;
    lab.knownHostsLine = `${port === 22 ? host : `[${host}]:${port}`} ${hostPub[0]} ${hostPub[1]}`;
    lab.hostKeyFingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'hostkey.pub')], { encoding: 'utf8' }).split(/\s+/)[1];
  };
  describeHostKey();
  return lab;
}

/** Starts OpenSSH sshd on loopback with fresh host and user keys (startSshHost with its defaults). */
export function startSshd(opts: { host?: string; port?: number } = {}): Promise<SshdLab> {
  return startSshHost({ address: opts.host, port: opts.port });
}

/** A local Unix account for the lab, created when missing and removed by remove() (only if created here). */
export interface LabUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  remove(): void;
}

/**
 * Ensures the account `name` exists (useradd), optionally with a password and a
 * sudoers drop-in granting password-less sudo (`sudo: 'nopasswd'`) or sudo that
 * asks for the password (`sudo: 'password'`). remove() deletes the drop-in, and
 * the account if this call created it.
 */
export function createLabUser(name: string, opts: { password?: string; sudo?: 'nopasswd' | 'password' } = {}): LabUser {
  ensureLabPackages();
  let created = false;
  if (spawnSync('id', ['-u', name]).status !== 0) {
    execFileSync('useradd', ['-m', '-s', '/bin/sh', name]);
    created = true;
  }
  if (opts.password !== undefined) execFileSync('chpasswd', { input: `${name}:${opts.password}\n` });
  else execFileSync('usermod', ['-p', '*', name]); // a locked password still allows key logins (unlike '!')
  const dropIn = `/etc/sudoers.d/certops-lab-${name}`;
  if (opts.sudo) {
    mkdirSync('/etc/sudoers.d', { recursive: true });
    writeFileSync(dropIn, `${name} ALL=(ALL) ${opts.sudo === 'nopasswd' ? 'NOPASSWD: ' : ''}ALL\n`, { mode: 0o440 });
  }
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  const home = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).split(':')[5];
  return {
    name,
    uid,
    gid,
    home,
    remove() {
      rmSync(dropIn, { force: true });
      if (created) spawnSync('userdel', ['-r', '-f', name]);
    },
  };
}

/** A real ssh-agent with its own socket. */
export interface SshAgentLab {
  socket: string;
  pid: number;
  /** ssh-add for a key without passphrase. */
  add(keyPath: string): void;
  stop(): Promise<void>;
}

/** Starts `ssh-agent` on a private socket. */
export async function startSshAgent(): Promise<SshAgentLab> {
  ensureLabPackages();
  const dir = labDir('agent');
  const socket = join(dir, 'agent.sock');
  const out = execFileSync('ssh-agent', ['-s', '-a', socket], { encoding: 'utf8' });
  const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(out)?.[1]);
  if (!pid) throw new Error(`ssh-agent did not start: ${out}`);
  return {
    socket,
    pid,
    add(keyPath) {
      execFileSync('ssh-add', ['-q', keyPath], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: ['ignore', 'pipe', 'pipe'] });
    },
    async stop() {
      await killAndWait(pid);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes `certops.json` (an object, or raw text for invalid-inventory tests) in `dir`; returns its path. */
export function writeInventory(dir: string, inventory: unknown, name = 'certops.json'): string {
  const path = join(dir, name);
  writeFileSync(path, typeof inventory === 'string' ? inventory : `${JSON.stringify(inventory, null, 2)}\n`);
  return path;
}

/** Writes a known_hosts file (one entry per line) in `dir`; returns its path. */
export function writeKnownHosts(dir: string, lines: string[], name = 'known_hosts'): string {
  const path = join(dir, name);
  writeFileSync(path, lines.map((l) => `${l}\n`).join(''), { mode: 0o600 });
  return path;
}

/** A `known_hosts` line with the host name hashed as `ssh-keygen -H` writes it (`|1|salt|hmac`). */
export function hashedKnownHostsLine(host: string, port: number, publicKey: string): string {
  const name = port === 22 ? host : `[${host}]:${port}`;
  const salt = randomBytes(20);
  const hash = createHmac('sha1', salt).update(name).digest();
  return `|1|${salt.toString('base64')}|${hash.toString('base64')} ${publicKey}`;
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

/** A running PostgreSQL 15 with SSL on (TLS negotiated inside its protocol, as STARTTLS). */
export interface PostgresLab {
  host: string;
  port: number;
  dir: string;
  /** The files PostgreSQL reads (owned by `postgres`, key 0600). */
  certFile: string;
  keyFile: string;
  /** Replaces the certificate and key files (keeping owner and modes) without reloading. */
  replaceFiles(cert: string, key: string): void;
  /** `pg_ctl reload` (SIGHUP): re-reads the SSL files. */
  reload(): void;
  log(): string;
  stop(): Promise<void>;
}

const PG_BIN = '/usr/lib/postgresql/15/bin';

/**
 * Starts PostgreSQL 15 (initdb + pg_ctl, as the `postgres` user since it refuses
 * root) on loopback with `ssl = on` serving `cert` and `key`.
 */
export async function startPostgres(opts: { cert: string; key: string; host?: string; port?: number }): Promise<PostgresLab> {
  ensureLabPackages();
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? (await freePort(host));
  const dir = labDir('postgres');
  const pgUid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const pgGid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  chownSync(dir, pgUid, pgGid);
  const asPostgres = (cmd: string, args: string[]) => {
    const r = spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8', cwd: dir });
    if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr}${r.stdout}${readIfExists(join(dir, 'postgres.log'))}`);
  };
  const data = join(dir, 'data');
  asPostgres(join(PG_BIN, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const certFile = join(dir, 'server.crt');
  const keyFile = join(dir, 'server.key');
  const place = (cert: string, key: string) => {
    writeFileSync(certFile, cert, { mode: 0o644 });
    writeFileSync(keyFile, key, { mode: 0o600 });
    chownSync(certFile, pgUid, pgGid);
    chownSync(keyFile, pgUid, pgGid);
  };
  place(opts.cert, opts.key);
  appendFileSync(join(data, 'postgresql.conf'), [
    `listen_addresses = '${host}'`, `port = ${port}`, `unix_socket_directories = '${dir}'`,
    'ssl = on', `ssl_cert_file = '${certFile}'`, `ssl_key_file = '${keyFile}'`, 'fsync = off', '',
  ].join('\n'));
  const logFile = join(dir, 'postgres.log');
  asPostgres(join(PG_BIN, 'pg_ctl'), ['-D', data, '-l', logFile, '-w', '-t', '60', 'start']);
  await waitForPort(host, port, 20_000, () => readIfExists(logFile));
  return {
    host,
    port,
    dir,
    certFile,
    keyFile,
    replaceFiles: place,
    reload: () => asPostgres(join(PG_BIN, 'pg_ctl'), ['-D', data, 'reload']),
    log: () => readIfExists(logFile),
    async stop() {
      spawnSync('runuser', ['-u', 'postgres', '--', join(PG_BIN, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop'], { cwd: dir });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
