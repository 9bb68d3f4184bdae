/**
 * The one trust store of the engine, for the language server and the CLI alike:
 * `SSL_CERT_FILE` / `SSL_CERT_DIR` as OpenSSL reads them, else the platform's
 * CA bundle when there is one, else Node's bundled Mozilla roots (so macOS and
 * Windows work too), plus the files the user adds (`certops.trust.extraCAFiles`,
 * `--ca`). Every source is described, so hover and `certops inspect` can say
 * which store a verdict came from.
 */
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { scanPem } from '../pem/scanner';
import { decodeFileBytes } from '../pem/text';
import { decodeBlock } from './decode';
import { checkIssued } from './issuance';
import { CertificateInfo, RAW } from './model';

/**
 * CA bundles of the platforms, in the order they are tried (the first that exists wins):
 * Debian/Ubuntu/Gentoo/Arch/Alpine, Fedora/RHEL 6, openSUSE, OpenELEC,
 * CentOS/RHEL 7+, Alpine/macOS/BSDs.
 */
export const PLATFORM_BUNDLES: readonly string[] = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/pki/tls/cacert.pem',
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/ssl/cert.pem',
];

// Bounds on what one store may cost to read: a hostile or mistaken SSL_CERT_DIR
// (say, a home directory) must not stall the editor.
const MAX_FILE_BYTES = 16 << 20;
const MAX_DIR_FILES = 4000;
const MAX_DIR_ENTRY_BYTES = 1 << 20;
const MAX_DIR_BYTES = 64 << 20;

/** One place anchors were read from. */
export interface TrustSource {
  /** How the source is named to the user: "SSL_CERT_FILE=/path", "system bundle /etc/…", "Node's bundled Mozilla roots", "extra CA file x.pem". */
  label: string;
  /** Certificates read from it. */
  count: number;
  /** Why it was read only in part or not at all ("no such file", ...), shown beside the count. */
  problem?: string;
}

/** Trust anchors indexed by subject name, to answer "is this certificate's issuer trusted?". */
export class TrustStore {
  private readonly bySubject = new Map<string, CertificateInfo[]>();
  private readonly all: CertificateInfo[] = [];
  /** Files that could not be read, or were read only in part, with the reason. */
  readonly errors: string[] = [];
  /** Where the anchors came from, in order. */
  readonly sources: TrustSource[] = [];

  constructor(certificates: CertificateInfo[] = []) {
    for (const c of certificates) this.add(c);
  }

  /** Adds an anchor; a certificate already present is not added twice. Returns whether it was new. */
  add(c: CertificateInfo): boolean {
    const k = c[RAW].subjectName.toString('latin1');
    const list = this.bySubject.get(k);
    if (list?.some((x) => x.sha256 === c.sha256)) return false;
    if (list) list.push(c);
    else this.bySubject.set(k, [c]);
    this.all.push(c);
    return true;
  }

  /** Number of distinct subject names. */
  get size(): number {
    return this.bySubject.size;
  }

  /** Number of distinct anchors. */
  get count(): number {
    return this.all.length;
  }

  /** Every anchor, in the order read. */
  certificates(): readonly CertificateInfo[] {
    return this.all;
  }

  /** "SSL_CERT_FILE=/path (143 roots)", with extra files after a "+". */
  get description(): string {
    if (this.sources.length === 0) return `no trust store (${this.count} ${plural(this.count)})`;
    return this.sources.map((s) => `${s.label} (${s.count} ${plural(s.count)}${s.problem ? `; ${s.problem}` : ''})`).join(' + ');
  }

  /** The anchor that issued `cert` (names, key ids and signature agree), if any. */
  findIssuer(cert: CertificateInfo): CertificateInfo | undefined {
    return this.bySubject.get(cert[RAW].issuerName.toString('latin1'))?.find((c) => checkIssued(c, cert) === 'ok');
  }

  /** Whether `cert` itself is one of the anchors. */
  contains(cert: CertificateInfo): boolean {
    return this.bySubject.get(cert[RAW].subjectName.toString('latin1'))?.some((c) => c.sha256 === cert.sha256) ?? false;
  }
}

function plural(n: number): string {
  return n === 1 ? 'root' : 'roots';
}

/** What resolveTrustStore looks at; every field defaults to the real environment. */
export interface TrustOptions {
  /** Where SSL_CERT_FILE and SSL_CERT_DIR are read (default process.env). */
  env?: Record<string, string | undefined>;
  /** Files trusted in addition to the base store. */
  extraCAFiles?: readonly string[];
  /** How the extra files are named in the description (default "extra CA file"). */
  extraLabel?: string;
  /** The platform bundles tried, in order (default PLATFORM_BUNDLES; tests pass their own). */
  platformBundles?: readonly string[];
}

/** The base store's origin, for callers that must tell "named by the environment" apart (the CLI fails when that is unreadable). */
export type TrustBase = 'env' | 'platform' | 'node';

/** A resolved store and where its base came from. */
export interface ResolvedTrust {
  store: TrustStore;
  base: TrustBase;
}

/**
 * Builds the trust store: `SSL_CERT_FILE` and/or `SSL_CERT_DIR` when either is
 * set (only what they name, as OpenSSL reads them: a PEM bundle, and
 * directories of PEM files such as the hashed `*.0` links of c_rehash, separated
 * by ":" or ";" on Windows), else the first platform bundle that exists, else
 * Node's bundled Mozilla roots; then the extra CA files. Files are re-read only
 * when their size or mtime changes. Never throws: problems are in `errors`.
 */
export function resolveTrust(opts: TrustOptions = {}): ResolvedTrust {
  const env = opts.env ?? process.env;
  const envFile = env.SSL_CERT_FILE || undefined;
  const envDirs = (env.SSL_CERT_DIR || '').split(process.platform === 'win32' ? ';' : ':').filter(Boolean);
  const bundles = opts.platformBundles ?? PLATFORM_BUNDLES;
  const extras = opts.extraCAFiles ?? [];
  // The server asks for every validation and hover: rebuild only when a named path changed
  // (a directory's mtime changes when update-ca-certificates relinks it).
  const key = JSON.stringify([envFile, envDirs, bundles, extras, opts.extraLabel]);
  const stamp = [...(envFile !== undefined || envDirs.length ? [envFile, ...envDirs] : bundles), ...extras].map((p) => (p === undefined ? '' : statStamp(p))).join('|');
  const cached = resolved.get(key);
  if (cached?.stamp === stamp) return cached.result;
  const result = buildTrust(envFile, envDirs, bundles, opts);
  if (resolved.size >= 16) resolved.clear();
  resolved.set(key, { stamp, result });
  return result;
}

const resolved = new Map<string, { stamp: string; result: ResolvedTrust }>();

function statStamp(path: string): string {
  try {
    const st = statSync(path);
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    return '-';
  }
}

function buildTrust(envFile: string | undefined, envDirs: string[], bundles: readonly string[], opts: TrustOptions): ResolvedTrust {
  const store = new TrustStore();
  let base: TrustBase;
  if (envFile !== undefined || envDirs.length > 0) {
    base = 'env';
    if (envFile !== undefined) addFile(store, envFile, `SSL_CERT_FILE=${envFile}`);
    for (const dir of envDirs) addDirectory(store, dir, `SSL_CERT_DIR=${dir}`);
  } else {
    const bundle = bundles.find(isFile);
    if (bundle !== undefined) {
      base = 'platform';
      addFile(store, bundle, `system bundle ${bundle}`);
    } else {
      base = 'node';
      addCertificates(store, nodeRoots(), "Node's bundled Mozilla roots");
    }
  }
  const label = opts.extraLabel ?? 'extra CA file';
  for (const f of opts.extraCAFiles ?? []) addFile(store, f, `${label} ${f}`);
  return { store, base };
}

/** resolveTrust's store alone. */
export function resolveTrustStore(opts: TrustOptions = {}): TrustStore {
  return resolveTrust(opts).store;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function addCertificates(store: TrustStore, certs: readonly CertificateInfo[], label: string, problem?: string): void {
  // A source's count is what it holds, even when an earlier source already brought the same roots.
  const distinct = new Set<string>();
  for (const c of certs) {
    distinct.add(c.sha256);
    store.add(c);
  }
  store.sources.push({ label, count: distinct.size, ...(problem ? { problem } : {}) });
}

function addFile(store: TrustStore, file: string, label: string): void {
  const r = readBundle(file, MAX_FILE_BYTES);
  if (typeof r === 'string') store.errors.push(`${file}: ${r}`);
  addCertificates(store, typeof r === 'string' ? [] : r, label, typeof r === 'string' ? r : undefined);
}

const dirListings = new Map<string, { stamp: string; files: string[]; truncated: boolean }>();

function addDirectory(store: TrustStore, dir: string, label: string): void {
  let listing: { files: string[]; truncated: boolean };
  try {
    const st = statSync(dir);
    if (!st.isDirectory()) throw new Error('not a directory');
    const stamp = `${st.mtimeMs}:${st.size}`;
    let cached = dirListings.get(dir);
    if (!cached || cached.stamp !== stamp) {
      // Hashed links (abcd1234.0) and the *.pem files they point to are the same file: read each once.
      const seen = new Set<string>();
      const files: string[] = [];
      let truncated = false;
      for (const name of readdirSync(dir).sort()) {
        if (files.length >= MAX_DIR_FILES) {
          truncated = true;
          break;
        }
        try {
          const p = join(dir, name);
          const real = realpathSync(p);
          if (seen.has(real) || !statSync(real).isFile()) continue;
          seen.add(real);
          files.push(p);
        } catch {
          // A dangling link is skipped, as OpenSSL skips it.
        }
      }
      cached = { stamp, files, truncated };
      dirListings.set(dir, cached);
    }
    listing = cached;
  } catch (e) {
    store.errors.push(`${dir}: ${reason(e)}`);
    store.sources.push({ label, count: 0, problem: reason(e) });
    return;
  }
  const certs: CertificateInfo[] = [];
  const problems: string[] = [];
  let bytes = 0;
  for (const f of listing.files) {
    bytes += statSize(f);
    if (bytes > MAX_DIR_BYTES) {
      problems.push(`more than ${MAX_DIR_BYTES >> 20} MiB of files; the rest was not read`);
      break;
    }
    const r = readBundle(f, MAX_DIR_ENTRY_BYTES);
    // Not every file in a certificate directory is PEM (READMEs, CRLs in DER): skip quietly, like OpenSSL's lookup.
    if (typeof r !== 'string') certs.push(...r);
  }
  if (listing.truncated) problems.push(`more than ${MAX_DIR_FILES} files; only the first ${MAX_DIR_FILES} were read`);
  for (const p of problems) store.errors.push(`${dir}: ${p}`);
  addCertificates(store, certs, label, problems.join('; ') || undefined);
}

function statSize(f: string): number {
  try {
    return statSync(f).size;
  } catch {
    return 0;
  }
}

const loaded = new Map<string, { stamp: string; certs: CertificateInfo[] | string }>();

/** The certificates of a PEM file, or the reason it could not be read; cached by size and mtime. */
function readBundle(file: string, maxBytes: number): CertificateInfo[] | string {
  let stamp: string;
  try {
    const st = statSync(file);
    if (st.isDirectory()) return 'is a directory';
    if (st.size > maxBytes) return `larger than ${maxBytes >> 20} MiB`;
    stamp = `${st.size}:${st.mtimeMs}`;
  } catch (e) {
    return reason(e);
  }
  let entry = loaded.get(file);
  if (!entry || entry.stamp !== stamp) {
    try {
      entry = { stamp, certs: pemCertificates(decodeFileBytes(readFileSync(file))) };
    } catch (e) {
      entry = { stamp, certs: reason(e) };
    }
    loaded.set(file, entry);
  }
  return entry.certs;
}

function pemCertificates(text: string): CertificateInfo[] {
  return scanPem(text)
    .map((b) => decodeBlock(b).certificate)
    .filter((c): c is CertificateInfo => c !== undefined);
}

let nodeRootCache: CertificateInfo[] | undefined;

function nodeRoots(): CertificateInfo[] {
  nodeRootCache ??= pemCertificates(rootCertificates.join('\n'));
  return nodeRootCache;
}

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOTDIR') return 'not a directory';
  return (e as Error).message;
}

/**
 * The resolved store as DER certificates with its description: the last
 * resort of a rotation's chain check, when the endpoint names no CA file and
 * the new bundle holds no root. Undefined when the store is empty.
 */
export function fallbackRoots(opts: TrustOptions = {}): { source: string; certs: Buffer[] } | undefined {
  const store = resolveTrustStore(opts);
  if (store.count === 0) return undefined;
  return { source: store.description, certs: store.certificates().map((c) => c[RAW].der) };
}
