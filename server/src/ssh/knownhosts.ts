/**
 * known_hosts as OpenSSH reads it (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"):
 * plain and hashed (`|1|salt|hmac-sha1`) host patterns, `[host]:port`, `!`
 * negation, `*`/`?` wildcards, and the `@revoked` and `@cert-authority` markers.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** One usable line of a known_hosts file. */
export interface KnownHostEntry {
  file: string;
  /** One-based line number. */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** Plain comma-separated patterns, or a hashed name. */
  hosts: { patterns: string[] } | { salt: Buffer; hash: Buffer };
  keyType: string;
  key: Buffer;
}

/** Lines longer than this are ignored (OpenSSH caps lines too). */
const MAX_LINE = 16 * 1024;

/** Parses a known_hosts text; malformed lines are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].replace(/\r$/, '').trim();
    if (!raw || raw.startsWith('#') || raw.length > MAX_LINE) continue;
    const fields = raw.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0].startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else continue;
    }
    if (fields.length < 3) continue;
    const [hostField, keyType, b64] = fields;
    const key = Buffer.from(b64, 'base64');
    if (key.length === 0 || keyTypeOf(key) !== keyType) continue;
    let hosts: KnownHostEntry['hosts'];
    const hashed = /^\|1\|([^|]+)\|([^|]+)$/.exec(hostField);
    if (hashed) hosts = { salt: Buffer.from(hashed[1], 'base64'), hash: Buffer.from(hashed[2], 'base64') };
    else hosts = { patterns: hostField.split(',').filter(Boolean) };
    out.push({ file, line: i + 1, marker, hosts, keyType, key });
  }
  return out;
}

/** The name known_hosts uses for a host: `host` on port 22, else `[host]:port`. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** The key type named inside an SSH public key blob (`ssh-ed25519`, ...), or '' when malformed. */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return '';
  const n = blob.readUInt32BE(0);
  if (n === 0 || n > 64 || blob.length < 4 + n) return '';
  return blob.subarray(4, 4 + n).toString('latin1');
}

/** OpenSSH's fingerprint: `SHA256:` and unpadded base64. */
export function fingerprintSha256(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** OpenSSH's glob: `*` any run, `?` one character, case-insensitive for host names. */
function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(name);
}

/** Whether an entry's host field names `name` (already `[host]:port` formatted). */
export function entryMatches(entry: KnownHostEntry, name: string): boolean {
  if ('salt' in entry.hosts) {
    const h = createHmac('sha1', entry.hosts.salt).update(name).digest();
    return h.length === entry.hosts.hash.length && timingSafeEqual(h, entry.hosts.hash);
  }
  let matched = false;
  for (const p of entry.hosts.patterns) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), name)) return false;
    } else if (globMatch(p, name)) matched = true;
  }
  return matched;
}

/** The verdict on a host key. */
export type HostKeyVerdict =
  | { status: 'known'; entry: KnownHostEntry }
  | { status: 'revoked'; entry: KnownHostEntry }
  | { status: 'changed'; entry: KnownHostEntry }
  | { status: 'unknown'; certAuthority?: KnownHostEntry };

/**
 * Checks the key a server offered against the entries: revoked wins, then a
 * matching key, then any other key on record for the host means it changed.
 * `names` are the names to look up (the host as dialled, and its address).
 */
export function checkHostKey(entries: KnownHostEntry[], names: string[], key: Buffer): HostKeyVerdict {
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { status: 'revoked', entry: revoked };
  const forHost = entries.filter((e) => e.marker === undefined && names.some((n) => entryMatches(e, n)));
  const known = forHost.find((e) => e.key.equals(key));
  if (known) return { status: 'known', entry: known };
  if (forHost.length > 0) {
    // Name the line of the same key type when there is one: that is the key that changed.
    const type = keyTypeOf(key);
    return { status: 'changed', entry: forHost.find((e) => e.keyType === type) ?? forHost[0] };
  }
  const ca = entries.find((e) => e.marker === 'cert-authority' && names.some((n) => entryMatches(e, n)));
  return ca ? { status: 'unknown', certAuthority: ca } : { status: 'unknown' };
}

/** The key types on record for a host, to prefer them when negotiating (as OpenSSH orders its host key algorithms). */
export function knownKeyTypes(entries: KnownHostEntry[], names: string[]): string[] {
  return [...new Set(entries.filter((e) => e.marker === undefined && names.some((n) => entryMatches(e, n))).map((e) => e.keyType))];
}

/** A known_hosts line for a newly accepted key; `hashed` writes the name as `|1|salt|hmac` (HashKnownHosts). */
export function knownHostsLine(host: string, port: number, key: Buffer, hashed = false): string {
  const name = knownHostsName(host, port);
  let field = name;
  if (hashed) {
    const salt = randomBytes(20);
    field = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
  }
  return `${field} ${keyTypeOf(key)} ${key.toString('base64')}`;
}
