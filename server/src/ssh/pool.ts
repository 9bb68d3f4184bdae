/**
 * One shared SSH connection per inventory host, opened as OpenSSH would
 * (config, ProxyJump hops, known_hosts, agent → identity files → password),
 * reused by every operation and closed after a while unused.
 */
import { appendFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { connect as netConnect, Socket } from 'node:net';
import { homedir } from 'node:os';
import { dirname } from 'node:path';
import type { Duplex } from 'node:stream';
import { AnyAuthMethod, AuthenticationType, Client, ClientChannel, OpenSSHAgent, ParsedKey, SFTPWrapper, utils } from 'ssh2';
import type { HostEntry } from '../inventory';
import { existingIdentityFiles, loadSshConfigText, parseHop, ResolvedSsh, resolveSsh } from './config';
import { checkHostKey, fingerprintSha256, KnownHostEntry, keyTypeOf, knownHostsLine, knownHostsName, knownKeyTypes, parseKnownHosts } from './knownhosts';
import { shellJoin, shellQuote } from './quote';
import { ExecOptions, ExecResult, Prompts, RemoteHost, RemoteStat, SshError } from './types';

/** Options of SshPool. */
export interface SshPoolOptions {
  prompts: Prompts;
  /** ssh_config file; default ~/.ssh/config (missing is fine). */
  sshConfigFile?: string;
  /** Replaces UserKnownHostsFile (and the global file) for lookups and for saving accepted keys. */
  knownHostsFile?: string;
  /** Accept and save unknown host keys without asking (changed and revoked keys are still refused). */
  acceptNew?: boolean;
  /** Close a connection unused for this long (default 60 s). */
  idleMs?: number;
  /** The agent socket; default $SSH_AUTH_SOCK. */
  agentSocket?: string;
  /** Home directory for ~ and the default files; default os.homedir(). */
  home?: string;
}

const GLOBAL_KNOWN_HOSTS = ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'];
const MAX_KEY_FILE = 64 * 1024;
const MAX_KNOWN_HOSTS = 8 * 1024 * 1024;
const DEFAULT_MAX_OUTPUT = 16 * 1024 * 1024;
const DEFAULT_MAX_FILE = 8 * 1024 * 1024;

/** ssh2's host key algorithms, in its default preference. */
const HOST_KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
const ALGORITHMS_OF_TYPE: Record<string, string[]> = { 'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] };

/** A connected client and the jump-host clients under it. */
interface Connection {
  client: Client;
  hops: Client[];
  closed: boolean;
  sftp?: Promise<SFTPWrapper>;
  /** Session channels open now, and the ones waiting for a slot (sshd's MaxSessions defaults to 10). */
  sessions?: { open: number; waiting: (() => void)[] };
  /** uid/gid → name, learned from SFTP directory listings (SFTP's stat carries only ids). */
  names?: { users: Map<number, string>; groups: Map<number, string>; listed: Set<string> };
}

/** A pool of connections, one per inventory host. */
export class SshPool {
  private readonly entries = new Map<string, PoolEntry>();
  private configText: string | undefined | null = null;

  constructor(readonly opts: SshPoolOptions) {}

  /** One shared connection per host, reused by every operation, closed when idle. Rejects with SshError. */
  async get(host: HostEntry, signal?: AbortSignal): Promise<RemoteHost> {
    const key = `${host.name}\0${JSON.stringify(host.ssh)}`;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = new PoolEntry(this, host);
      this.entries.set(key, entry);
    }
    await entry.use(() => Promise.resolve(), signal);
    return entry.handle;
  }

  /** Closes every connection. */
  closeAll(): void {
    for (const e of this.entries.values()) e.close();
    this.entries.clear();
  }

  /** How many live connections the pool holds (for tests and the bench). */
  get connectionCount(): number {
    return [...this.entries.values()].filter((e) => e.connected).length;
  }

  /** The resolved settings for a host entry (config file read once per pool). */
  resolve(host: HostEntry): ResolvedSsh {
    return resolveSsh(host.ssh, host.name, { configText: this.config(), home: this.opts.home });
  }

  /** Resolves one ProxyJump hop: `[user@]host[:port]`, looked up in the config like any host. */
  resolveHop(spec: string): ResolvedSsh {
    const hop = parseHop(spec);
    const r = resolveSsh({ host: hop.host, user: hop.user, port: hop.port }, hop.host, { configText: this.config(), home: this.opts.home });
    return { ...r, proxyJump: [] };
  }

  private config(): string | undefined {
    if (this.configText === null) this.configText = loadSshConfigText(this.opts.sshConfigFile, this.opts.home ?? homedir());
    return this.configText;
  }
}

/** One host's connection, opened on demand and closed when idle. */
class PoolEntry {
  private conn: Promise<Connection> | undefined;
  private live: Connection | undefined;
  private active = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  readonly handle: RemoteHost;
  readonly resolved: ResolvedSsh;

  constructor(
    private readonly pool: SshPool,
    readonly host: HostEntry,
  ) {
    this.resolved = pool.resolve(host);
    this.handle = new Remote(this, host.name, typeof host.ssh === 'object' && host.ssh.sudo === true);
  }

  get connected(): boolean {
    return this.live !== undefined && !this.live.closed;
  }

  /** Runs `fn` with the connection held open (not idle) for its duration. */
  async use<T>(fn: (c: Connection) => Promise<T>, signal?: AbortSignal): Promise<T> {
    this.active++;
    clearTimeout(this.idleTimer);
    try {
      const c = await this.connection(signal);
      return await fn(c);
    } finally {
      this.active--;
      if (this.active === 0) {
        this.idleTimer = setTimeout(() => this.close(), this.pool.opts.idleMs ?? 60_000);
        this.idleTimer.unref();
      }
    }
  }

  /** Holds the connection until the returned function is called (for forwarded streams). */
  hold(): () => void {
    this.active++;
    clearTimeout(this.idleTimer);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      if (this.active === 0) {
        this.idleTimer = setTimeout(() => this.close(), this.pool.opts.idleMs ?? 60_000);
        this.idleTimer.unref();
      }
    };
  }

  private connection(signal?: AbortSignal): Promise<Connection> {
    if (this.live && !this.live.closed) return Promise.resolve(this.live);
    if (!this.conn) {
      this.conn = openConnection(this.pool, this.resolved, signal).then(
        (c) => {
          this.live = c;
          c.client.on('close', () => {
            c.closed = true;
            // The target went away (server side, keep-alive timeout): its jump hosts have nothing left to carry.
            for (const h of c.hops) h.end();
            if (this.live === c) {
              this.live = undefined;
              this.conn = undefined;
            }
          });
          return c;
        },
        (e) => {
          this.conn = undefined;
          throw e;
        },
      );
    }
    return this.conn;
  }

  close(): void {
    clearTimeout(this.idleTimer);
    const c = this.live;
    this.live = undefined;
    this.conn = undefined;
    if (c) closeConnection(c);
  }
}

function closeConnection(c: Connection): void {
  c.closed = true;
  c.client.end();
  for (const h of [...c.hops].reverse()) h.end();
}

/** Opens the connection to a host through its jump hosts. */
async function openConnection(pool: SshPool, target: ResolvedSsh, signal?: AbortSignal): Promise<Connection> {
  const chain = [...target.proxyJump.map((spec) => pool.resolveHop(spec)), target];
  const hops: Client[] = [];
  try {
    let sock: Duplex | undefined;
    for (let i = 0; i < chain.length; i++) {
      const r = chain[i];
      if (i > 0) sock = await forward(hops[i - 1], r.hostname, r.port, `${chain[i - 1].alias} (jump host)`);
      const client = await openClient(pool, r, sock, signal, i < chain.length - 1 ? ' (jump host)' : '');
      hops.push(client);
    }
  } catch (e) {
    for (const h of hops.reverse()) h.end();
    throw e;
  }
  const client = hops.pop() as Client;
  // A jump host going away takes the target's stream with it; ssh2 then closes the target too.
  return { client, hops, closed: false };
}

function forward(client: Client, host: string, port: number, via: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    client.forwardOut('127.0.0.1', 0, host, port, (err, ch) => {
      if (err) reject(new SshError(`${via} cannot reach ${host}:${port}: ${channelReason(err)}`, 'unreachable'));
      else resolve(ch);
    });
  });
}

function channelReason(err: Error): string {
  return err.message.replace(/^\(SSH\) Channel open failure: ?/, '').replace(/\.$/, '').toLowerCase() || 'refused';
}

/** A TCP connection with its own timeout, so an unreachable host fails fast with a reason. */
function dial(r: ResolvedSsh, signal?: AbortSignal): Promise<Socket> {
  const where = `${r.user}@${r.hostname}:${r.port}`;
  return new Promise((resolve, reject) => {
    const sock = netConnect({ host: r.hostname, port: r.port });
    const fail = (e: SshError) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      reject(e);
    };
    const onAbort = () => fail(new SshError(`${where}: cancelled`, 'cancelled'));
    const timer = setTimeout(() => fail(new SshError(`${where}: no TCP connection within ${r.connectTimeoutMs / 1000} s (ConnectTimeout)`, 'timeout')), r.connectTimeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) return onAbort();
    sock.once('connect', () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sock.removeAllListeners('error');
      // SSH is a conversation of small packets: Nagle's algorithm would hold each one for the peer's delayed ACK.
      sock.setNoDelay(true);
      resolve(sock);
    });
    sock.once('error', (e: NodeJS.ErrnoException) => fail(new SshError(`${where}: ${describeNetError(e)}`, 'unreachable')));
  });
}

function describeNetError(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'ECONNRESET':
      return 'connection reset';
    default:
      return e.code ?? e.message;
  }
}

function readKnownHosts(files: string[]): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  for (const f of files) {
    try {
      if (statSync(f).size > MAX_KNOWN_HOSTS) continue;
      out.push(...parseKnownHosts(readFileSync(f, 'utf8'), f));
    } catch {
      /* a missing known_hosts file knows no host */
    }
  }
  return out;
}

/** One SSH client, authenticated, over `sock` or a fresh TCP connection. */
async function openClient(pool: SshPool, r: ResolvedSsh, sock: Duplex | undefined, signal: AbortSignal | undefined, role: string): Promise<Client> {
  const { prompts } = pool.opts;
  const where = `${r.user}@${r.alias}${role}`;
  const knownFiles = pool.opts.knownHostsFile ? [pool.opts.knownHostsFile] : [...r.knownHostsFiles, ...GLOBAL_KNOWN_HOSTS];
  const saveFile = pool.opts.knownHostsFile ?? r.knownHostsFiles[0];
  const entries = readKnownHosts(knownFiles);
  const lookupHost = r.hostKeyAlias ?? r.hostname;
  const names = [knownHostsName(lookupHost, r.port)];
  const preferred = knownKeyTypes(entries, names).flatMap((t) => ALGORITHMS_OF_TYPE[t] ?? [t]);
  const serverHostKey = [...new Set([...preferred.filter((a) => HOST_KEY_ALGORITHMS.includes(a)), ...HOST_KEY_ALGORITHMS])];
  let hostKeyFailure: SshError | undefined;
  const hostWhere = `${lookupHost}:${r.port}${role}`;

  const verifyHostKey = async (key: Buffer): Promise<boolean> => {
    const verdict = checkHostKey(entries, names, key);
    const fp = fingerprintSha256(key);
    const type = keyTypeOf(key);
    switch (verdict.status) {
      case 'known':
        return true;
      case 'revoked':
        hostKeyFailure = new SshError(`${hostWhere}: the host key ${type} ${fp} is marked @revoked in ${verdict.entry.file}:${verdict.entry.line}; refusing to connect`, 'host-key-revoked');
        return false;
      case 'changed':
        hostKeyFailure = new SshError(
          `${hostWhere}: HOST KEY CHANGED: the server offers ${type} ${fp}, which does not match ${verdict.entry.file}:${verdict.entry.line}; refusing to connect (if the change is expected, remove that line)`,
          'host-key-changed',
        );
        return false;
      case 'unknown': {
        const accept = pool.opts.acceptNew || r.strictHostKeyChecking === 'accept-new' || r.strictHostKeyChecking === 'no';
        let answer: 'once' | 'save' | 'cancel';
        if (r.strictHostKeyChecking === 'yes' && !pool.opts.acceptNew) answer = 'cancel';
        else answer = accept ? 'save' : await prompts.unknownHostKey({ host: lookupHost, port: r.port, keyType: type, sha256: fp });
        if (answer === 'cancel') {
          hostKeyFailure = new SshError(`${hostWhere}: unknown host key ${type} ${fp} (not in ${knownFiles.filter((f) => !GLOBAL_KNOWN_HOSTS.includes(f)).join(', ')}); not accepted`, 'host-key-unknown');
          return false;
        }
        if (answer === 'save' && saveFile) {
          mkdirSync(dirname(saveFile), { recursive: true, mode: 0o700 });
          appendFileSync(saveFile, `${knownHostsLine(lookupHost, r.port, key, r.hashKnownHosts)}\n`, { mode: 0o600 });
        }
        return true;
      }
    }
  };

  const tcp = sock ?? (await dial(r, signal));
  const client = new Client();
  const tried: string[] = [];
  const methods = authMethods(pool, r, prompts, tried);
  return new Promise<Client>((resolve, reject) => {
    let settled = false;
    const finish = (e?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(handshakeTimer);
      signal?.removeEventListener('abort', onAbort);
      if (e) {
        client.end();
        tcp.destroy();
        reject(e);
      } else resolve(client);
    };
    const onAbort = () => finish(new SshError(`${where}: cancelled`, 'cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    // ConnectTimeout also bounds the wait for the server's key exchange (a port that accepts but never speaks
    // SSH); the longer readyTimeout below leaves time for a person to answer the prompts after it.
    const handshakeTimer = setTimeout(() => finish(new SshError(`${where}: no SSH handshake within ${r.connectTimeoutMs / 1000} s (ConnectTimeout)`, 'timeout')), r.connectTimeoutMs);
    client.once('ready', () => finish());
    client.on('error', (e: Error & { level?: string }) => {
      if (hostKeyFailure) return finish(hostKeyFailure);
      if (e.level === 'client-authentication') {
        return finish(new SshError(`${where}: authentication failed (tried ${tried.length ? tried.join(', ') : 'nothing: no agent, identity file or password'})`, 'auth'));
      }
      if (e instanceof SshError) return finish(e);
      if (/timed out/i.test(e.message)) return finish(new SshError(`${where}: no SSH handshake within the timeout`, 'timeout'));
      finish(new SshError(`${where}: ${e.message}`, 'unreachable'));
    });
    client.once('close', () => finish(hostKeyFailure ?? new SshError(`${where}: the connection closed during the SSH handshake`, 'unreachable')));
    let step = 0;
    client.connect({
      sock: tcp,
      username: r.user,
      // Prompts may wait on a person; the TCP connect already had its own ConnectTimeout.
      readyTimeout: r.connectTimeoutMs + 300_000,
      keepaliveInterval: r.serverAliveIntervalMs,
      keepaliveCountMax: r.serverAliveCountMax,
      algorithms: { serverHostKey: serverHostKey as never },
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
        clearTimeout(handshakeTimer);
        verifyHostKey(key).then(verify, (e: Error) => {
          hostKeyFailure = e instanceof SshError ? e : new SshError(`${hostWhere}: ${e.message}`, 'host-key-unknown');
          verify(false);
        });
      },
      authHandler: (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, next: (m: AnyAuthMethod | false) => void) => {
        const tryNext = (): void => {
          if (step >= methods.length) return next(false);
          const m = methods[step++];
          if (methodsLeft && !methodsLeft.includes(m.needs)) return tryNext();
          m.make().then((auth) => (auth ? next(auth) : tryNext()), (e: Error) => {
            hostKeyFailure = e instanceof SshError ? e : new SshError(`${where}: ${e.message}`, 'auth');
            next(false);
          });
        };
        tryNext();
        return undefined as never;
      },
    } as never);
  });
}

interface AuthStep {
  /** The method name the server lists for this step. */
  needs: AuthenticationType;
  make(): Promise<AnyAuthMethod | undefined>;
}

/** OpenSSH's order: the agent, the identity files, keyboard-interactive, then password. */
function authMethods(pool: SshPool, r: ResolvedSsh, prompts: Prompts, tried: string[]): AuthStep[] {
  const username = r.user;
  const steps: AuthStep[] = [];
  const agentSocket = pool.opts.agentSocket ?? process.env.SSH_AUTH_SOCK;
  // IdentitiesOnly: the agent may still sign, but only with the keys of the configured identity files (as OpenSSH).
  const allowed = r.identitiesOnly ? existingIdentityFiles(r).flatMap((f) => publicBlobOf(f)) : undefined;
  if (agentSocket && (!allowed || allowed.length > 0)) {
    steps.push({
      needs: 'publickey',
      make: async () => {
        tried.push('the agent');
        return { type: 'agent', username, agent: allowed ? new IdentityFilteredAgent(agentSocket, allowed) : agentSocket };
      },
    });
  }
  for (const file of existingIdentityFiles(r)) {
    steps.push({
      needs: 'publickey',
      make: async () => {
        let data: Buffer;
        try {
          if (statSync(file).size > MAX_KEY_FILE) return undefined;
          data = readFileSync(file);
        } catch {
          return undefined;
        }
        let key = utils.parseKey(data);
        if (key instanceof Error && /encrypted|passphrase/i.test(key.message)) {
          for (let attempt = 0; attempt < 3; attempt++) {
            const pass = await prompts.passphrase({ identityFile: file, host: r.alias });
            if (pass === undefined) return undefined;
            key = utils.parseKey(data, pass);
            if (!(key instanceof Error)) break;
          }
          if (key instanceof Error) throw new SshError(`${file}: wrong passphrase`, 'auth');
        }
        if (key instanceof Error) return undefined;
        tried.push(file);
        return { type: 'publickey', username, key: Array.isArray(key) ? key[0] : key };
      },
    });
  }
  let password: Promise<string | undefined> | undefined;
  const askPassword = () => (password ??= prompts.password({ user: username, host: r.alias }));
  steps.push({
    needs: 'keyboard-interactive',
    make: async () => {
      tried.push('keyboard-interactive');
      return {
        type: 'keyboard-interactive',
        username,
        prompt: (_name: string, _instructions: string, _lang: string, questions: { prompt: string; echo?: boolean }[], finish: (answers: string[]) => void) => {
          if (questions.length === 0) return finish([]);
          // One secret answers a password prompt; anything else (OTP, challenge) is not handled.
          askPassword().then((pw) => finish(questions.map(() => pw ?? '')), () => finish(questions.map(() => '')));
        },
      };
    },
  });
  steps.push({
    needs: 'password',
    make: async () => {
      const pw = await askPassword();
      if (pw === undefined) return undefined;
      tried.push('password');
      return { type: 'password', username, password: pw };
    },
  });
  return steps;
}

/** An agent that offers only the listed public keys. */
class IdentityFilteredAgent extends OpenSSHAgent {
  constructor(
    socket: string,
    private readonly allowed: Buffer[],
  ) {
    super(socket);
  }

  override getIdentities(cb: (err: Error | undefined, keys?: ParsedKey[]) => void): void {
    super.getIdentities((err, keys) => {
      if (err) return cb(err);
      const parsed = (keys ?? []).filter((k): k is ParsedKey => typeof (k as ParsedKey).getPublicSSH === 'function');
      cb(undefined, parsed.filter((k) => this.allowed.some((a) => a.equals(k.getPublicSSH()))));
    });
  }
}

/** The SSH public key blob of an identity file, from its `.pub` (encrypted keys hide theirs) or the key itself. */
function publicBlobOf(file: string): Buffer[] {
  for (const candidate of [`${file}.pub`, file]) {
    try {
      if (statSync(candidate).size > MAX_KEY_FILE) continue;
      const k = utils.parseKey(readFileSync(candidate));
      if (!(k instanceof Error)) return [(Array.isArray(k) ? k[0] : k).getPublicSSH()];
    } catch {
      /* unreadable: try the next form */
    }
  }
  return [];
}

/** The RemoteHost handle the pool hands out. */
class Remote implements RemoteHost {
  constructor(
    private readonly entry: PoolEntry,
    readonly name: string,
    readonly sudo: boolean,
  ) {}

  exec(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const useSudo = opts.sudo ?? this.sudo;
    return this.run(useSudo ? `sudo -n -- ${shellJoin(argv)}` : shellJoin(argv), useSudo, opts);
  }

  execShell(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const useSudo = opts.sudo ?? this.sudo;
    return this.run(useSudo ? `sudo -n -- sh -c ${shellQuote(command)}` : command, useSudo, opts);
  }

  private run(command: string, viaSudo: boolean, opts: ExecOptions): Promise<ExecResult> {
    return this.entry.use(async (c) => {
      const release = await sessionSlot(c);
      let r: ExecResult;
      try {
        r = await runCommand(c.client, command, opts, this.name);
      } finally {
        release();
      }
      if (viaSudo && r.code !== 0) {
        const err = r.stderr.toString('utf8');
        if (/sudo: (a password is required|a terminal is required)/.test(err)) {
          throw new SshError(`${this.name}: sudo asks for a password (sudo -n refused); allow password-less sudo for ${this.entry.resolved.user} or set "sudo": false`, 'sudo-needs-password');
        }
        if (/^sudo: /m.test(err) && /not in the sudoers|may not run sudo|not allowed to execute/.test(err)) {
          throw new SshError(`${this.name}: ${this.entry.resolved.user} may not use sudo here`, 'sudo-needs-password');
        }
      }
      return r;
    }, opts.signal);
  }

  async readFile(path: string, opts: { maxBytes?: number; signal?: AbortSignal } = {}): Promise<Buffer> {
    const max = opts.maxBytes ?? DEFAULT_MAX_FILE;
    if (this.sudo) {
      const r = await this.exec(['cat', '--', path], { maxOutputBytes: max + 64 * 1024, signal: opts.signal }).catch((e: unknown) => {
        if (e instanceof SshError && /output exceeds/.test(e.message)) throw fileError(path, 'EFBIG', `larger than ${max} bytes`);
        throw e;
      });
      if (r.code !== 0) throw fromStderr(path, r.stderr.toString('utf8'));
      if (r.stdout.length > max) throw fileError(path, 'EFBIG', `larger than ${max} bytes`);
      return r.stdout;
    }
    return this.entry.use(async (c) => {
      const sftp = await sftpOf(c);
      return sftpRead(sftp, path, max);
    }, opts.signal);
  }

  async stat(path: string): Promise<RemoteStat | undefined> {
    if (this.sudo) {
      const r = await this.exec(['stat', '-L', '-c', '%a|%u|%g|%s|%Y|%U|%G|%F', '--', path]);
      if (r.code !== 0) {
        const e = fromStderr(path, r.stderr.toString('utf8'));
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
      const [mode, uid, gid, size, mtime, owner, group, type] = r.stdout.toString('utf8').trim().split('|');
      return {
        path,
        mode: parseInt(mode, 8),
        uid: Number(uid),
        gid: Number(gid),
        owner,
        group,
        size: Number(size),
        mtimeMs: Number(mtime) * 1000,
        isFile: /regular/.test(type),
        isDirectory: type === 'directory',
      };
    }
    return this.entry.use(async (c) => {
      const sftp = await sftpOf(c);
      return new Promise<RemoteStat | undefined>((resolve, reject) => {
        sftp.stat(path, (err, st) => {
          if (err) {
            const code = (err as Error & { code?: number }).code;
            if (code === 2) return resolve(undefined);
            return reject(fileError(path, code === 3 ? 'EACCES' : 'EIO', code === 3 ? 'permission denied' : err.message));
          }
          resolve({
            path,
            mode: st.mode & 0o7777,
            uid: st.uid,
            gid: st.gid,
            size: st.size,
            mtimeMs: st.mtime * 1000,
            isFile: st.isFile(),
            isDirectory: st.isDirectory(),
          });
        });
      }).then(async (st) => (st ? { ...st, ...(await ownerNames(c, sftp, path, st.uid, st.gid)) } : st));
    });
  }

  async forwardOut(host: string, port: number): Promise<Duplex> {
    const release = this.entry.hold();
    try {
      const ch = await this.entry.use((c) => forward(c.client, host, port, this.name));
      ch.once('close', release);
      return ch;
    } catch (e) {
      release();
      throw e;
    }
  }

  close(): void {
    this.entry.close();
  }
}

/** Names for uid/gid from the `ls -l` style longname of an SFTP directory listing; cached per connection. */
async function ownerNames(c: Connection, sftp: SFTPWrapper, path: string, uid: number, gid: number): Promise<{ owner?: string; group?: string }> {
  c.names ??= { users: new Map(), groups: new Map(), listed: new Set() };
  const { users, groups, listed } = c.names;
  const dir = path.replace(/\/[^/]*$/, '') || '/';
  if ((!users.has(uid) || !groups.has(gid)) && !listed.has(dir) && listed.size < 1000) {
    listed.add(dir);
    const entries = await new Promise<{ filename: string; longname: string; attrs: { uid: number; gid: number } }[]>((resolve) =>
      sftp.readdir(dir, (err, list) => resolve(err ? [] : list.slice(0, 10_000))),
    );
    for (const e of entries) {
      const f = e.longname.split(/\s+/);
      if (f.length < 4) continue;
      if (!users.has(e.attrs.uid) && !/^\d+$/.test(f[2])) users.set(e.attrs.uid, f[2]);
      if (!groups.has(e.attrs.gid) && !/^\d+$/.test(f[3])) groups.set(e.attrs.gid, f[3]);
    }
  }
  return { owner: users.get(uid), group: groups.get(gid) };
}

/** Commands beyond this many at once on one connection wait their turn (one more slot is the SFTP session's). */
const MAX_SESSIONS = 8;

function sessionSlot(c: Connection): Promise<() => void> {
  const s = (c.sessions ??= { open: 0, waiting: [] });
  const release = () => {
    s.open--;
    s.waiting.shift()?.();
  };
  if (s.open < MAX_SESSIONS) {
    s.open++;
    return Promise.resolve(release);
  }
  return new Promise((resolve) =>
    s.waiting.push(() => {
      s.open++;
      resolve(release);
    }),
  );
}

function fileError(path: string, code: string, reason: string): Error {
  const e = new Error(`${path}: ${reason}`) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

function fromStderr(path: string, stderr: string): Error {
  if (/No such file or directory/.test(stderr)) return fileError(path, 'ENOENT', 'no such file');
  if (/Permission denied/.test(stderr)) return fileError(path, 'EACCES', 'permission denied');
  if (/Is a directory/.test(stderr)) return fileError(path, 'EISDIR', 'is a directory');
  return fileError(path, 'EIO', stderr.trim().split('\n')[0] || 'failed');
}

function sftpOf(c: Connection): Promise<SFTPWrapper> {
  c.sftp ??= new Promise<SFTPWrapper>((resolve, reject) => {
    c.client.sftp((err, sftp) => {
      if (err) {
        c.sftp = undefined;
        reject(new SshError(`SFTP is not available: ${err.message}`, 'command'));
      } else {
        sftp.once('close', () => (c.sftp = undefined));
        resolve(sftp);
      }
    });
  });
  return c.sftp;
}

function sftpRead(sftp: SFTPWrapper, path: string, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stream = sftp.createReadStream(path, { start: 0, end: max });
    stream.on('data', (d: Buffer) => {
      chunks.push(d);
      size += d.length;
    });
    stream.once('error', (err: Error & { code?: number }) => {
      if (err.code === 2) reject(fileError(path, 'ENOENT', 'no such file'));
      else if (err.code === 3) reject(fileError(path, 'EACCES', 'permission denied'));
      else reject(fileError(path, 'EIO', err.message));
    });
    stream.once('end', () => {
      if (size > max) reject(fileError(path, 'EFBIG', `larger than ${max} bytes`));
      else resolve(Buffer.concat(chunks));
    });
  });
}

function runCommand(client: Client, command: string, opts: ExecOptions, hostName: string): Promise<ExecResult> {
  const max = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  return new Promise((resolve, reject) => {
    client.exec(command, (err, ch) => {
      if (err) return reject(new SshError(`${hostName}: cannot run a command: ${err.message}`, 'command'));
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      let size = 0;
      let code: number | null = null;
      let sig: string | undefined;
      let settled = false;
      const finish = (e?: SshError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        if (e) {
          ch.close();
          reject(e);
        } else resolve({ code, signal: sig, stdout: Buffer.concat(out), stderr: Buffer.concat(errOut) });
      };
      const onAbort = () => finish(new SshError(`${hostName}: command cancelled`, 'cancelled'));
      const timer = opts.timeoutMs ? setTimeout(() => finish(new SshError(`${hostName}: command timed out after ${opts.timeoutMs! / 1000} s`, 'timeout')), opts.timeoutMs) : undefined;
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      if (opts.signal?.aborted) return onAbort();
      const take = (list: Buffer[]) => (d: Buffer) => {
        size += d.length;
        if (size > max) return finish(new SshError(`${hostName}: command output exceeds ${max} bytes`, 'command'));
        list.push(d);
      };
      ch.on('data', take(out));
      ch.stderr.on('data', take(errOut));
      ch.once('exit', (c: number | null, s?: string) => {
        code = c;
        sig = s ?? undefined;
      });
      ch.once('close', () => finish());
      if (opts.stdin) ch.end(opts.stdin);
      else ch.end();
    });
  });
}
