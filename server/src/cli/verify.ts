// `certops verify LEAF`: RFC 5280 path validation with the engine in server/src/validation.
import { isIP } from 'node:net';
import { CertificateInfo } from '../analysis';
import { PeerName, validatePath, ValidationResult } from '../validation';
import { decodeCertificate, loadLeafFirst } from './blocks';
import { CliIo, EXIT, painter, parseCommand, parseCount, parseTime, printJson, readInput, untrusted, UsageError } from './io';
import type { Command } from './main';
import { KEY_USAGE_NAMES, PURPOSES, runBatch } from './verify-batch';
import { loadAllCertificates, loadRoots } from './trust';

const HELP = `Usage: certops verify LEAF [options]
       certops verify --batch FILE|-

Validates a certificate path (RFC 5280 and the Web PKI profile) from the leaf
to a trust anchor. Unlike "openssl verify", when LEAF holds several
certificates the first is the leaf and the rest are used as intermediates; in
a PKCS#7 (.p7b, unordered) the leaf is the certificate that issues none of the
others. --roots and --intermediates files may be PKCS#7 too.

Options:
  --roots FILE          trust anchors (repeatable); default the trust store:
                        $SSL_CERT_FILE / $SSL_CERT_DIR, else the system bundle,
                        else Node's bundled Mozilla roots
  --intermediates FILE  untrusted certificates for building the path (repeatable)
  --host NAME | --ip ADDR | --email ADDR
                        the identity the leaf's subjectAltName must cover
  --at TIME             validate as of TIME (ISO 8601 or @unix-seconds; default now)
  --purpose P           server, client or any (default any): the extended key usage required
  --key-usage LIST      keyUsage bits the leaf must assert when it has the extension
                        (comma-separated: digitalSignature, keyEncipherment, ...)
  --max-depth N         at most N intermediates (default 8)
  --crl FILE            CRLs to check revocation against (repeatable)
  --json                {valid, chain: [sha256...], errors: [{code, message}]}
  --batch FILE|-        JSON lines in, JSON lines out (see docs/cli.md)

Exit 0 when the path is valid, 1 when it is not, 2 on bad usage or unreadable files.
`;

/** The `verify` command. */
export const verifyCommand: Command = {
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseCommand('verify', args, {
      roots: { type: 'string', multiple: true },
      intermediates: { type: 'string', multiple: true },
      host: { type: 'string' },
      ip: { type: 'string' },
      email: { type: 'string' },
      at: { type: 'string' },
      purpose: { type: 'string' },
      'key-usage': { type: 'string' },
      'max-depth': { type: 'string' },
      crl: { type: 'string', multiple: true },
      batch: { type: 'string' },
    });
    if (values.batch !== undefined) {
      if (positionals.length > 0) throw new UsageError('--batch takes its chains from the input, not from LEAF arguments');
      const input = values.batch === '-' ? await readStdinOrFail(io) : readInput(values.batch);
      return runBatch(input.toString('utf8'), io);
    }
    if (positionals.length !== 1) throw new UsageError('expected one LEAF file (see certops verify --help)');
    const purpose = values.purpose ?? 'any';
    if (!Object.hasOwn(PURPOSES, purpose)) throw new UsageError(`--purpose: expected server, client or any, got "${untrusted(purpose)}"`);
    const keyUsage = (values['key-usage'] ?? '').split(',').filter(Boolean);
    const badKu = keyUsage.find((k) => !KEY_USAGE_NAMES.includes(k));
    if (badKu !== undefined) throw new UsageError(`--key-usage: unknown name "${untrusted(badKu)}" (expected ${KEY_USAGE_NAMES.join(', ')})`);
    const peerName = peerNameFrom(values.host, values.ip, values.email);
    const [leaf, ...bundled] = loadLeafFirst(positionals[0]);
    const intermediates = [...bundled.map((c) => c.der), ...loadAllCertificates(values.intermediates ?? [])];
    const roots = loadRoots(values.roots ?? [], io);
    const crls = (values.crl ?? []).map((f) => readInput(f));
    const at = values.at === undefined ? io.now() : parseTime(values.at);
    const result = validatePath({
      leaf: leaf.der,
      roots: roots.certificates,
      intermediates,
      peerName,
      at,
      extendedKeyUsage: PURPOSES[purpose],
      keyUsage,
      maxDepth: parseCount('max-depth', values['max-depth'], 8),
      crls,
    });
    if (values.json) printJson(io, result);
    else printText(io, positionals[0], result, [leaf.der, ...intermediates, ...roots.certificates], roots.source);
    return result.valid ? EXIT.ok : EXIT.failed;
  },
};

async function readStdinOrFail(io: CliIo): Promise<Buffer> {
  try {
    return await io.readStdin();
  } catch (e) {
    throw new UsageError(`standard input: ${(e as Error).message}`);
  }
}

function peerNameFrom(host: string | undefined, ip: string | undefined, email: string | undefined): PeerName | null {
  const given = [host, ip, email].filter((v) => v !== undefined);
  if (given.length > 1) throw new UsageError('use only one of --host, --ip and --email');
  if (host !== undefined) return { kind: 'DNS', value: host };
  if (ip !== undefined) {
    const bare = ip.replace(/^\[(.*)\]$/, '$1');
    if (!isIP(bare)) throw new UsageError(`--ip: "${ip}" is not an IPv4 or IPv6 address`);
    return { kind: 'IP', value: bare };
  }
  if (email !== undefined) return { kind: 'RFC822', value: email };
  return null;
}

function printText(io: CliIo, file: string, r: ValidationResult, known: Buffer[], rootsSource: string): void {
  const paint = painter(io.color);
  const bySha = new Map<string, CertificateInfo>();
  for (const der of known) {
    try {
      const c = decodeCertificate(der);
      bySha.set(c.sha256, c);
    } catch {
      /* the validator reports malformed inputs itself */
    }
  }
  const lines = [`${untrusted(file)}: ${r.valid ? paint('green', 'OK') : paint('red', 'FAILED')}`];
  lines.push(`  roots  ${untrusted(rootsSource)}`);
  r.chain.forEach((sha, i) => lines.push(`  ${i === 0 ? 'chain ' : '      '} ${i} ${untrusted(bySha.get(sha)?.subject ?? '(unknown)')}  ${paint('dim', sha)}`));
  for (const e of r.errors) lines.push(`  ${paint('red', e.code)}: ${untrusted(e.message)}`);
  io.out(`${lines.join('\n')}\n`);
}
