/**
 * Certificates and keys generated with the openssl CLI in a temporary
 * directory, with validity periods relative to the current time. Nothing
 * generated here is committed.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const DAY = 86_400_000;

/** A generated certificate with its key. */
export interface Issued {
  name: string;
  certPath: string;
  keyPath: string;
  /** The certificate in PEM. */
  pem: string;
  /** The private key in PEM (PKCS#8). */
  keyPem: string;
}

/** How to issue a certificate. */
export interface IssueOptions {
  cn: string;
  /** Omit for a self-signed certificate. */
  issuer?: Issued;
  /** `ec` (P-256, default), `rsa2048`, `rsa1024`, `ec-p384` or an existing key to reuse. */
  key?: 'ec' | 'rsa2048' | 'rsa1024' | 'ec-p384' | { keyPath: string };
  ca?: boolean;
  pathLen?: number;
  /** An OpenSSL keyUsage value; defaults suit the CA flag. */
  keyUsage?: string;
  /** DNS names; defaults to the CN for leaves. `null` leaves subjectAltName out. */
  san?: string[] | null;
  /** Days from now (negative for the past). */
  notBeforeDays?: number;
  notAfterDays?: number;
  md?: 'sha256' | 'sha1' | 'sha384';
  /** Omit basicConstraints entirely. */
  noBasicConstraints?: boolean;
}

/** A throwaway PKI in a temporary directory. */
export class Pki {
  readonly dir = mkdtempSync(join(tmpdir(), 'certops-pki-'));
  private serial = 0x1000;

  constructor() {
    mkdirSync(join(this.dir, 'newcerts'));
    writeFileSync(join(this.dir, 'index.txt'), '');
  }

  /** Runs openssl and returns stdout. */
  openssl(args: string[], input?: string): string {
    return execFileSync('openssl', args, { cwd: this.dir, input, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
  }

  /** A new private key file; returns its path. */
  key(name: string, kind: 'ec' | 'rsa2048' | 'rsa1024' | 'ec-p384' = 'ec'): string {
    const path = join(this.dir, `${name}.key`);
    const args =
      kind === 'ec' ? ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'] :
      kind === 'ec-p384' ? ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'] :
      ['-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${kind === 'rsa1024' ? 1024 : 2048}`];
    this.openssl(['genpkey', ...args, '-out', path]);
    return path;
  }

  /** Issues a certificate with `openssl ca`, which allows validity dates in the past. */
  issue(name: string, o: IssueOptions): Issued {
    const keyPath = typeof o.key === 'object' ? o.key.keyPath : this.key(name, o.key ?? 'ec');
    const csr = join(this.dir, `${name}.csr`);
    const certPath = join(this.dir, `${name}.crt`);
    const cfg = join(this.dir, `${name}.cnf`);
    const ca = o.ca ?? false;
    const ext: string[] = [];
    if (!o.noBasicConstraints) ext.push(`basicConstraints = critical,CA:${ca ? 'TRUE' : 'FALSE'}${ca && o.pathLen !== undefined ? `,pathlen:${o.pathLen}` : ''}`);
    ext.push(`keyUsage = critical,${o.keyUsage ?? (ca ? 'keyCertSign,cRLSign' : 'digitalSignature,keyEncipherment')}`);
    const san = o.san === undefined ? (ca ? null : [o.cn]) : o.san;
    if (san?.length) ext.push(`subjectAltName = ${san.map((s) => (/^[0-9.]+$/.test(s) ? `IP:${s}` : `DNS:${s}`)).join(',')}`);
    ext.push('subjectKeyIdentifier = hash');
    if (o.issuer) ext.push('authorityKeyIdentifier = keyid');
    writeFileSync(
      cfg,
      [
        '[ca]',
        'default_ca = CA_default',
        '[CA_default]',
        `database = ${join(this.dir, 'index.txt')}`,
        `new_certs_dir = ${join(this.dir, 'newcerts')}`,
        `serial = ${join(this.dir, 'serial')}`,
        'policy = policy_any',
        'unique_subject = no',
        'default_md = sha256',
        'email_in_dn = no',
        '[policy_any]',
        'commonName = supplied',
        '[ext]',
        ...ext,
        '',
      ].join('\n'),
    );
    writeFileSync(join(this.dir, 'serial'), (this.serial++).toString(16) + '\n');
    this.openssl(['req', '-new', '-key', keyPath, '-subj', `/CN=${o.cn}`, '-out', csr]);
    const stamp = (days: number) => new Date(Date.now() + days * DAY).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
    const signer = o.issuer ? ['-cert', o.issuer.certPath, '-keyfile', o.issuer.keyPath] : ['-selfsign', '-keyfile', keyPath];
    this.openssl([
      'ca', '-batch', '-config', cfg, '-extensions', 'ext', '-in', csr, '-out', certPath, '-notext',
      '-startdate', stamp(o.notBeforeDays ?? -1), '-enddate', stamp(o.notAfterDays ?? 365), '-md', o.md ?? 'sha256', ...signer,
    ]);
    const pem = readFileSync(certPath, 'utf8');
    return { name, certPath, keyPath, pem, keyPem: readFileSync(keyPath, 'utf8') };
  }

  /** A root, an intermediate and a leaf for `cn`, each valid from yesterday for a year (leaf) or more (CAs). */
  chain(prefix: string, cn = 'api.example.com'): { root: Issued; intermediate: Issued; leaf: Issued } {
    const root = this.issue(`${prefix}-root`, { cn: `${prefix} Root CA`, ca: true, notAfterDays: 3650 });
    const intermediate = this.issue(`${prefix}-int`, { cn: `${prefix} Intermediate CA`, ca: true, pathLen: 0, issuer: root, notAfterDays: 1825 });
    const leaf = this.issue(`${prefix}-leaf`, { cn, issuer: intermediate, notAfterDays: 200 });
    return { root, intermediate, leaf };
  }

  /** Writes a file into the PKI directory and returns its path. */
  write(name: string, content: string | Buffer, mode = 0o600): string {
    const path = join(this.dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content, { mode });
    chmodSync(path, mode);
    return path;
  }

  /** The file:// URI of a path. */
  uri(path: string): string {
    return pathToFileURL(path).toString();
  }

  /** Deletes the directory. */
  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
