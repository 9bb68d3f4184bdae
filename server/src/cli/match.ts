// `certops match CERT KEY`: compares public keys, so no key material is ever printed.
import { createHash, createPrivateKey, createPublicKey, KeyObject } from 'node:crypto';
import { keyLabel } from '../analysis/spki';
import { loadCertificates, loadFile, where } from './blocks';
import { CliIo, EXIT, painter, parseCommand, printJson, readInput, UsageError } from './io';
import type { Command } from './main';

const HELP = `Usage: certops match CERT KEY [--passphrase-env VAR] [--json]

Exit 0 when the private key in KEY belongs to the certificate in CERT, 1 when
it does not. CERT may hold a chain: its first certificate is the one checked.
KEY may be PKCS#8, PKCS#1 (RSA) or SEC1 (EC), in PEM or DER; RSA, EC,
Ed25519 and Ed448 keys are supported. An encrypted key needs its passphrase
in an environment variable named by --passphrase-env (never on the command
line, where other users can read it).

Only public-key fingerprints (SHA-256 of the SubjectPublicKeyInfo) are printed.
`;

const DER_TYPES: Record<string, 'pkcs1' | 'sec1' | 'pkcs8'> = { 'RSA PRIVATE KEY': 'pkcs1', 'EC PRIVATE KEY': 'sec1', 'PRIVATE KEY': 'pkcs8' };

/** Loads the first private key of `path`; usage errors for encrypted keys without passphrase and for unsupported formats. */
export function loadPrivateKey(path: string, passphrase: string | undefined, passphraseHint: string): KeyObject {
  const bytes = readInput(path);
  const file = loadFile(path, bytes);
  const block = file.analysis.blocks.find((b) => b.kind === 'privateKey');
  if (!block) throw new UsageError(`${path}: no private key in the file (found ${[...new Set(file.analysis.blocks.map((b) => b.label))].join(', ')})`);
  const at = where(file, block);
  if (block.label === 'OPENSSH PRIVATE KEY') throw new UsageError(`${at}: OpenSSH private key format is not supported; convert a copy with "ssh-keygen -p -m PKCS8 -f COPY"`);
  if (!block.privateKey) throw new UsageError(`${at}: ${block.problems[0] ?? 'not a readable private key'}`);
  const encrypted = block.privateKey.encrypted;
  if (encrypted && passphrase === undefined) throw new UsageError(`${at}: the private key is encrypted; ${passphraseHint}`);
  try {
    if (file.text === null) return createPrivateKey({ key: bytes, format: 'der', type: DER_TYPES[block.label] ?? 'pkcs8' });
    // The block's own text keeps the RFC 1421 headers (Proc-Type, DEK-Info) that legacy encryption needs.
    const pem = file.text.slice(block.offsets.start, block.offsets.end);
    return createPrivateKey({ key: pem, format: 'pem', passphrase: passphrase ?? '' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (encrypted && /DECRYPT/.test(code)) throw new UsageError(`${at}: wrong passphrase for the encrypted private key`);
    throw new UsageError(`${at}: not a readable private key (${(e as Error).message.split('::').pop()})`);
  }
}

/** Resolves --passphrase-env to the variable's value; a named but unset variable is a usage error. */
export function passphraseFrom(io: CliIo, variable: string | undefined): string | undefined {
  if (variable === undefined) return undefined;
  const value = io.env[variable];
  if (value === undefined) throw new UsageError(`--passphrase-env: environment variable ${variable} is not set`);
  return value;
}

/** The `match` command. */
export const matchCommand: Command = {
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseCommand('match', args, { 'passphrase-env': { type: 'string' } });
    if (positionals.length !== 2) throw new UsageError('expected CERT KEY (see certops match --help)');
    const [certPath, keyPath] = positionals;
    const [{ cert: details }] = loadCertificates(certPath);
    const key = loadPrivateKey(keyPath, passphraseFrom(io, values['passphrase-env']), 'pass --passphrase-env VAR with the passphrase in $VAR');
    const keySpki = createHash('sha256').update(createPublicKey(key).export({ type: 'spki', format: 'der' })).digest('hex');
    const matches = keySpki === details.spkiSha256;
    const certKey = keyLabel(details.publicKey);
    if (values.json) {
      printJson(io, {
        match: matches,
        certificate: { file: certPath, subject: details.subject, sha256: details.sha256, spkiSha256: details.spkiSha256, publicKey: certKey },
        key: { file: keyPath, type: describeKeyType(key), spkiSha256: keySpki },
      });
    } else {
      const paint = painter(io.color);
      io.out(
        matches
          ? `${paint('green', 'match')}: ${keyPath} is the private key of ${certPath} (${details.subject})\n  spki sha256 ${keySpki}\n`
          : `${paint('red', 'MISMATCH')}: ${keyPath} is not the private key of ${certPath} (${details.subject})\n` +
              `  certificate spki sha256 ${details.spkiSha256} (${certKey})\n  key         spki sha256 ${keySpki} (${describeKeyType(key)})\n`,
      );
    }
    return matches ? EXIT.ok : EXIT.failed;
  },
};

// OpenSSL's curve names, spelled as the rest of certops spells them.
const CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

function describeKeyType(key: KeyObject): string {
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') return `RSA ${d.modulusLength ?? '?'}`;
  if (key.asymmetricKeyType === 'ec') return `EC ${CURVES[d.namedCurve ?? ''] ?? d.namedCurve ?? '?'}`;
  if (key.asymmetricKeyType === 'ed25519') return 'Ed25519';
  if (key.asymmetricKeyType === 'ed448') return 'Ed448';
  return key.asymmetricKeyType ?? 'unknown';
}
