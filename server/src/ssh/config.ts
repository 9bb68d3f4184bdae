/**
 * What OpenSSH would use to reach a host: ~/.ssh/config (Host patterns and
 * Match host/user/all through the ssh-config package, first value wins),
 * then the inventory's explicit fields, then OpenSSH's defaults.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import SSHConfig from 'ssh-config';
import type { SshTarget } from '../inventory';

/** Everything a connection needs, resolved. */
export interface ResolvedSsh {
  /** The name the user gave (alias or host). */
  alias: string;
  hostname: string;
  port: number;
  user: string;
  identityFiles: string[];
  /** Whether IdentityFile was given explicitly (OpenSSH tries the default files only otherwise). */
  explicitIdentity: boolean;
  identitiesOnly: boolean;
  /** Jump hosts in order, each `[user@]host[:port]` or an alias. */
  proxyJump: string[];
  knownHostsFiles: string[];
  strictHostKeyChecking: 'yes' | 'no' | 'accept-new' | 'ask';
  connectTimeoutMs: number;
  serverAliveIntervalMs: number;
  serverAliveCountMax: number;
  /** HostKeyAlias: the name looked up in known_hosts instead of the host name. */
  hostKeyAlias?: string;
  /** HashKnownHosts: accepted keys are saved under a hashed name. */
  hashKnownHosts: boolean;
}

const DEFAULT_IDENTITIES = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'];

/** Options of resolveSsh. */
export interface ResolveOptions {
  /** ssh_config text; undefined when there is none. */
  configText?: string;
  home?: string;
  localUser?: string;
}

/** Reads an ssh_config file with its `Include`s expanded in place, or undefined when it does not exist. */
export function readSshConfig(file: string, home = homedir(), includeBase = join(home, '.ssh')): string | undefined {
  try {
    return expandIncludes(readFileSync(file, 'utf8'), home, 0, includeBase);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

/** The system-wide ssh_config, read after the user's (whose values win) unless a file was given explicitly, as `ssh -F`. */
export const GLOBAL_SSH_CONFIG = '/etc/ssh/ssh_config';

/**
 * The configuration OpenSSH would use: `explicit` alone (as `ssh -F`), else ~/.ssh/config followed
 * by the system file, whose values apply only where the user's set none.
 */
export function loadSshConfigText(explicit: string | undefined, home = homedir()): string | undefined {
  if (explicit !== undefined) return readSshConfig(explicit, home);
  const user = readSshConfig(defaultSshConfigFile(home), home);
  const system = readSshConfig(GLOBAL_SSH_CONFIG, home, '/etc/ssh');
  if (user === undefined && system === undefined) return undefined;
  // `Match all` closes whatever Host block the user's file ended in, as a new file would.
  return system === undefined ? user : `${user ?? ''}\nMatch all\n${system}`;
}

/** The default ssh config path: ~/.ssh/config. */
export function defaultSshConfigFile(home = homedir()): string {
  return join(home, '.ssh', 'config');
}

const MAX_INCLUDE_DEPTH = 16;
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/**
 * OpenSSH reads an `Include`d file at the point of the directive, inside the current Host/Match
 * block, so splicing its text there keeps the meaning. Relative paths are under ~/.ssh; the last
 * path component may be a glob (`config.d/*`), expanded in sorted order.
 */
export function expandIncludes(text: string, home: string, depth: number, base = join(home, '.ssh')): string {
  if (!/^\s*include\s/im.test(text)) return text;
  let total = 0;
  return text.split('\n').map((line) => {
    const m = /^\s*include\s+(.+?)\s*$/i.exec(line);
    if (!m) return line;
    if (depth >= MAX_INCLUDE_DEPTH) throw new Error('Include nested too deeply');
    const parts: string[] = [];
    for (const spec of m[1].split(/\s+/)) {
      const path = spec.replace(/^~(?=\/)/, home);
      const abs = isAbsolute(path) ? path : join(base, path);
      for (const f of globFiles(abs)) {
        let body: string;
        try {
          body = readFileSync(f, 'utf8');
        } catch {
          continue; // OpenSSH ignores missing include files
        }
        total += body.length;
        if (total > MAX_CONFIG_BYTES) throw new Error('included ssh config files are too large');
        parts.push(expandIncludes(body, home, depth + 1, base));
      }
    }
    return parts.join('\n');
  }).join('\n');
}

function globFiles(path: string): string[] {
  const base = basename(path);
  if (!/[*?]/.test(base)) return [path];
  const re = new RegExp(`^${base.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  try {
    return readdirSync(dirname(path)).filter((n) => re.test(n) && !n.startsWith('.')).sort().map((n) => join(dirname(path), n));
  } catch {
    return [];
  }
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function all(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Splits `[user@]host[:port]` (IPv6 as `[addr]:port`). */
export function parseHop(spec: string): { user?: string; host: string; port?: number } {
  const at = spec.lastIndexOf('@');
  const user = at >= 0 ? spec.slice(0, at) : undefined;
  const rest = at >= 0 ? spec.slice(at + 1) : spec;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  const m = v6 ?? /^([^:]+)(?::(\d+))?$/.exec(rest);
  if (!m) throw new Error(`"${spec}" is not [user@]host[:port]`);
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && !(port >= 1 && port <= 65535)) throw new Error(`"${spec}": port must be 1-65535`);
  return { user: user || undefined, host: m[1], port };
}

/**
 * Resolves a host as OpenSSH does: `target` is the inventory's `ssh` (an alias
 * string or an object whose fields override the config).
 */
export function resolveSsh(target: SshTarget | string, defaultName: string, opts: ResolveOptions = {}): ResolvedSsh {
  const home = opts.home ?? homedir();
  const localUser = opts.localUser ?? userInfo().username;
  const t: SshTarget = typeof target === 'string' ? { host: target } : target;
  const alias = t.host ?? defaultName;
  let computed: Record<string, string | string[]> = {};
  if (opts.configText) {
    const config = SSHConfig.parse(opts.configText);
    // `Match exec` would run a shell command from the config file: not evaluated here.
    // `Match user` sees the User the config itself sets (ssh-config would let a preset User win over the file's).
    computed = config.compute({ Host: alias }, { ignoreCase: true, matchExec: false });
  }
  const get = (k: string) => first(computed[k.toLowerCase()]);
  const hostname = expandTokens(get('HostName') ?? alias, { h: alias, home, r: '', u: localUser, p: '' });
  const port = t.port ?? (get('Port') ? Number(get('Port')) : 22);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${alias}: Port must be 1-65535`);
  const user = t.user ?? get('User') ?? localUser;
  const tokens = { h: hostname, home, r: user, u: localUser, p: String(port) };
  const configIds = all(computed.identityfile).filter((f) => f.toLowerCase() !== 'none');
  const explicit = t.identityFile !== undefined || configIds.length > 0;
  const identityFiles = (t.identityFile !== undefined ? [t.identityFile, ...configIds] : configIds).map((f) => expandTokens(f, tokens));
  if (!explicit) for (const name of DEFAULT_IDENTITIES) identityFiles.push(join(home, '.ssh', name));
  const jump = t.proxyJump ?? get('ProxyJump');
  const knownHostsFiles = all(computed.userknownhostsfile).flatMap((v) => v.split(/\s+/)).filter((f) => f && f.toLowerCase() !== 'none').map((f) => expandTokens(f, tokens));
  if (knownHostsFiles.length === 0) knownHostsFiles.push(join(home, '.ssh', 'known_hosts'), join(home, '.ssh', 'known_hosts2'));
  const strict = (get('StrictHostKeyChecking') ?? 'ask').toLowerCase();
  const seconds = (v: string | undefined, d: number) => (v !== undefined && /^\d+$/.test(v) ? Number(v) * 1000 : d);
  return {
    alias,
    hostname,
    port,
    user,
    identityFiles,
    explicitIdentity: explicit,
    identitiesOnly: /^yes$/i.test(get('IdentitiesOnly') ?? 'no'),
    proxyJump: jump && jump.toLowerCase() !== 'none' ? jump.split(',').map((s) => s.trim()).filter(Boolean) : [],
    knownHostsFiles,
    strictHostKeyChecking: strict === 'yes' || strict === 'no' || strict === 'accept-new' ? strict : strict === 'off' ? 'no' : 'ask',
    connectTimeoutMs: seconds(get('ConnectTimeout'), 15_000),
    serverAliveIntervalMs: seconds(get('ServerAliveInterval'), 15_000),
    serverAliveCountMax: Number(get('ServerAliveCountMax') ?? 3) || 3,
    hostKeyAlias: get('HostKeyAlias'),
    hashKnownHosts: /^yes$/i.test(get('HashKnownHosts') ?? 'no'),
  };
}

/** OpenSSH's `~` and `%` tokens in IdentityFile, UserKnownHostsFile: %d %h %p %r %u %%. */
export function expandTokens(value: string, t: { h: string; home: string; r: string; u: string; p: string }): string {
  let v = value.replace(/^~(?=\/|$)/, t.home);
  v = v.replace(/%([%dhpru])/g, (_, c: string) => (c === '%' ? '%' : c === 'd' ? t.home : c === 'h' ? t.h : c === 'p' ? t.p : c === 'r' ? t.r : t.u));
  return v;
}

/** The identity files that exist (OpenSSH silently skips missing default ones). */
export function existingIdentityFiles(r: ResolvedSsh): string[] {
  return r.identityFiles.filter((f) => existsSync(f));
}
