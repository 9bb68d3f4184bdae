// `certops match CERT KEY`: compares public keys, so no key material is ever printed.
import { createPrivateKey, KeyObject } from 'node:crypto';
import type { AnalyzedBlock, PrivateKeyInfo } from '../analysis';
import { parsePrivateKey } from '../analysis/keys';
import { pairKeyWithCertificates } from '../analysis/match';
import { keyLabel } from '../analysis/spki';
import { LoadedFile, loadCertificateFile, loadFile, toPem, where } from './blocks';
import { CliIo, EXIT, painter, parseCommand, printJson, readInput, untrusted, UsageError } from './io';
import type { Command } from './main';

const HELP = `Usage: certops match CERT KEY [--passphrase-env VAR] [--json]

Exit 0 when the private key in KEY belongs to the certificate of CERT that a
server pairs it with, 1 when it does not. That is the first certificate of a
PEM or DER file (nginx, Apache and HAProxy use the first as the leaf), or the
leaf of a PKCS#7 (.p7b, PEM, DER or BER), whose order means nothing: the
certificate that issues none of the others. A key that belongs to another
certificate of CERT (an intermediate of fullchain.pem) is a mismatch, and the
output names that certificate; a PKCS#7 without one leaf is reported as
ambiguous (exit 1). The editor's key-mismatch diagnostic decides the same
way. KEY may be PKCS#8 (plain or encrypted), PKCS#1 (RSA), SEC1
(EC), OpenSSL's traditional DSA format or an OpenSSH private key, in PEM or
DER; RSA, EC, DSA, Ed25519 and Ed448 keys are supported. An encrypted key
needs its passphrase in an environment variable named by --passphrase-env
(never on the command line, where other users can read it); an OpenSSH key
does not, since its public half is stored in clear.

Only public-key fingerprints (SHA-256 of the SubjectPublicKeyInfo) are printed.
`;

/** The first private key block of a file, with where it is. */
interface KeyBlock {
  file: LoadedFile;
  bytes: Buffer;
  block: AnalyzedBlock;
  info: PrivateKeyInfo;
  /** "FILE:LINE" or "FILE". */
  at: string;
}

function loadKeyBlock(path: string): KeyBlock {
  const bytes = readInput(path);
  const file = loadFile(path, bytes);
  const block = file.analysis.blocks.find((b) => b.kind === 'privateKey');
  if (!block) throw new UsageError(`${path}: no private key in the file (found ${[...new Set(file.analysis.blocks.map((b) => b.label))].join(', ')})`);
  const at = where(file, block);
  if (!block.privateKey) throw new UsageError(`${at}: ${block.problems[0] ?? 'not a readable private key'}`);
  return { file, bytes, block, info: block.privateKey, at };
}

/** Decrypts (or just loads) a key block with Node's crypto; usage errors for a missing or wrong passphrase. */
function keyObjectOf(k: KeyBlock, passphrase: string | undefined, passphraseHint: string): KeyObject {
  const encrypted = k.info.encrypted;
  if (encrypted && passphrase === undefined) throw new UsageError(`${k.at}: the private key is encrypted; ${passphraseHint}`);
  try {
    // PEM for every form: Node reads OpenSSL's traditional DSA key only from PEM, and a PEM block's own
    // text keeps the RFC 1421 headers (Proc-Type, DEK-Info) that legacy encryption needs.
    const pem = k.file.text === null ? toPem(k.bytes, k.block.label) : k.file.text.slice(k.block.offsets.start, k.block.offsets.end);
    return createPrivateKey({ key: pem, format: 'pem', passphrase: passphrase ?? '' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (encrypted && /DECRYPT|BAD_PASSWORD/.test(code)) throw new UsageError(`${k.at}: wrong passphrase for the encrypted private key`);
    throw new UsageError(`${k.at}: the ${k.block.label} could not be loaded${encrypted ? ' (wrong passphrase, or an unsupported encryption)' : ''}`);
  }
}

/** Loads the first private key of `path` as a KeyObject; usage errors for encrypted keys without passphrase and for unsupported formats. */
export function loadPrivateKey(path: string, passphrase: string | undefined, passphraseHint: string): KeyObject {
  const k = loadKeyBlock(path);
  if (k.block.label === 'OPENSSH PRIVATE KEY') throw new UsageError(`${k.at}: OpenSSH private key format is not supported here; convert a copy with "ssh-keygen -p -m PKCS8 -f COPY"`);
  return keyObjectOf(k, passphrase, passphraseHint);
}

/**
 * The public facts of the first private key of `path`: its SPKI hash and a
 * label such as `EC P-256`. The engine derives them without a passphrase
 * whenever the file allows (unencrypted keys, OpenSSH keys); an encrypted key
 * is decrypted in memory and described by the same engine code.
 */
function keyFacts(path: string, passphrase: string | undefined, passphraseHint: string): { spkiSha256: string; label: string } {
  const k = loadKeyBlock(path);
  if (k.info.spkiSha256) return { spkiSha256: k.info.spkiSha256, label: keyLabel(k.info) };
  if (!k.info.encrypted) throw new UsageError(`${k.at}: the public key of this ${keyLabel(k.info)} private key cannot be derived, so it cannot be matched`);
  const der = keyObjectOf(k, passphrase, passphraseHint).export({ type: 'pkcs8', format: 'der' });
  try {
    const info = parsePrivateKey('PRIVATE KEY', der, []);
    if (!info.spkiSha256) throw new UsageError(`${k.at}: the public key of this ${keyLabel(info)} private key cannot be derived, so it cannot be matched`);
    return { spkiSha256: info.spkiSha256, label: keyLabel(info) };
  } finally {
    der.fill(0);
  }
}

/** Resolves --passphrase-env to the variable's value; a named but unset variable is a usage error. */
export function passphraseFrom(io: CliIo, variable: string | undefined): string | undefined {
  if (variable === undefined) return undefined;
  const value = io.env[variable];
  if (value === undefined) throw new UsageError(`--passphrase-env: environment variable ${variable} is not set`);
  return value;
}

/** At most this many certificates are listed after a mismatch. */
const LISTED = 10;

/** The `match` command. */
export const matchCommand: Command = {
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseCommand('match', args, { 'passphrase-env': { type: 'string' } });
    if (positionals.length !== 2) throw new UsageError('expected CERT KEY (see certops match --help)');
    const [certPath, keyPath] = positionals;
    const { file, certificates } = loadCertificateFile(certPath);
    const key = keyFacts(keyPath, passphraseFrom(io, values['passphrase-env']), 'pass --passphrase-env VAR with the passphrase in $VAR');
    // The editor's key-mismatch asks the same function, so both faces agree on every file.
    const { served, owner, match } = pairKeyWithCertificates(certificates, key.spkiSha256);
    const count = certificates.length;
    const describe = (i: number) => {
      const c = certificates[i];
      return {
        index: i,
        location: where(file, c.block),
        subject: c.certificate.subject,
        sha256: c.certificate.sha256,
        spkiSha256: c.certificate.spkiSha256,
        publicKey: keyLabel(c.certificate.publicKey),
      };
    };
    if (values.json) {
      printJson(io, {
        match,
        certificate: served.index === undefined ? null : { file: certPath, ...describe(served.index) },
        certificates: count,
        belongsTo: owner < 0 ? null : { file: certPath, ...describe(owner) },
        ...(served.leaves ? { leaves: served.leaves } : {}),
        key: { file: keyPath, type: key.label, spkiSha256: key.spkiSha256 },
      });
      return match ? EXIT.ok : EXIT.failed;
    }
    const paint = painter(io.color);
    // Subjects and file names come from outside: the CLI's one escaping before a terminal sees them.
    const [certName, keyName] = [untrusted(certPath), untrusted(keyPath)];
    const which = (i: number) => (count === 1 ? certName : `certificate ${i + 1} of ${count} in ${certName}`);
    const subject = (i: number) => untrusted(certificates[i].certificate.subject);
    const spkiLine = (label: string, spki: string, type: string) => `  ${label.padEnd(11)} spki sha256 ${spki} (${type})`;
    const keyLine = spkiLine('key', key.spkiSha256, key.label);
    const belongs = owner < 0 ? `the key belongs to none of the ${count} certificates` : `the key belongs to certificate ${owner + 1} (${subject(owner)})`;
    let lines: string[];
    if (served.index === undefined) {
      const leaves = served.leaves.length > 0 ? `certificates ${served.leaves.map((i) => i + 1).join(', ')} issue none of the others` : 'no certificate stands out as issuing none of the others';
      lines = [`${paint('red', 'AMBIGUOUS')}: ${certName} is a PKCS#7 without one leaf (${leaves}), so the certificate a server pairs ${keyName} with cannot be told; ${belongs}`];
    } else if (match) {
      lines = [`${paint('green', 'match')}: ${keyName} is the private key of ${which(served.index)} (${subject(served.index)})`, `  spki sha256 ${key.spkiSha256}`];
    } else if (owner >= 0) {
      const paired = served.from === 'first' ? 'the first certificate' : `the leaf, certificate ${served.index + 1}`;
      const c = certificates[served.index].certificate;
      lines = [
        `${paint('red', 'MISMATCH')}: ${keyName} belongs to ${which(owner)} (${subject(owner)}), not to ${paired} (${subject(served.index)}), which a server pairs it with`,
        spkiLine('certificate', c.spkiSha256, keyLabel(c.publicKey)),
        keyLine,
      ];
    } else if (count === 1) {
      const c = certificates[0].certificate;
      lines = [`${paint('red', 'MISMATCH')}: ${keyName} is not the private key of ${certName} (${subject(0)})`, spkiLine('certificate', c.spkiSha256, keyLabel(c.publicKey)), keyLine];
    } else {
      const width = `certificate ${Math.min(count, LISTED)}`.length;
      lines = [`${paint('red', 'MISMATCH')}: ${keyName} is not the private key of any of the ${count} certificates in ${certName}`];
      certificates.slice(0, LISTED).forEach((c, i) => lines.push(`  ${`certificate ${i + 1}`.padEnd(width)} spki sha256 ${c.certificate.spkiSha256} (${keyLabel(c.certificate.publicKey)}) ${subject(i)}`));
      if (count > LISTED) lines.push(`  … and ${count - LISTED} more`);
      lines.push(`  ${'key'.padEnd(width)} spki sha256 ${key.spkiSha256} (${key.label})`);
    }
    io.out(`${lines.join('\n')}\n`);
    return match ? EXIT.ok : EXIT.failed;
  },
};
