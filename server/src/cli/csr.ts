// `certops csr --from CERT` (a new key and a CSR with the certificate's subject and SANs) and `certops ca-bundle NEW OLD` (an overlap trust bundle).
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { createPublicKey, generateKeyPairSync, KeyObject, webcrypto } from 'node:crypto';
import { analyzeDocument, RAW } from '../analysis';
import { loadCertificates, toPem } from './blocks';
import { describeFsError, EXIT, parseCommand, printJson, UsageError } from './io';
import type { Command } from './main';
import { escapeTerminal } from './remote';

const CSR_HELP = `Usage: certops csr --from CERT --out-key FILE --out-csr FILE [--key-type ec|rsa2048|rsa3072|ed25519]

Renewal helper: writes a new private key (created with mode 0600; EC P-256
by default) and a certificate signing request with the same subject and
subjectAltNames as the certificate in CERT (its first certificate). Neither
output file may exist already. The key is never printed.
`;

const BUNDLE_HELP = `Usage: certops ca-bundle NEW_CA OLD_CA --out FILE

Writes a combined trust bundle, the new CA first and then the old one, for a
CA rotation with overlap: roll this bundle out first, then the leaf
certificates issued by the new CA, then a bundle without the old CA. Both
inputs must hold CA certificates. FILE must not exist already.
`;

type KeyType = 'ec' | 'rsa2048' | 'rsa3072' | 'ed25519';

/** Creates `path` exclusively with `mode` and writes `data`; an existing file is a usage error, a failed write leaves nothing. */
function writeNew(path: string, data: string, mode: number): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx', mode);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${path}: ${code === 'EEXIST' ? 'already exists; refusing to overwrite it' : describeFsError(e)}`);
  }
  try {
    writeSync(fd, data);
  } catch (e) {
    closeSync(fd);
    unlinkSync(path);
    throw new UsageError(`${path}: ${describeFsError(e)}`);
  }
  closeSync(fd);
}

function generate(type: KeyType): { privateKey: KeyObject; algorithm: EcKeyImportParams | RsaHashedImportParams | Algorithm; signing: Algorithm | EcdsaParams } {
  if (type === 'ec') {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return { privateKey, algorithm: { name: 'ECDSA', namedCurve: 'P-256' } as EcKeyImportParams, signing: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams };
  }
  if (type === 'ed25519') {
    const { privateKey } = generateKeyPairSync('ed25519');
    return { privateKey, algorithm: { name: 'Ed25519' }, signing: { name: 'Ed25519' } };
  }
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: type === 'rsa2048' ? 2048 : 3072 });
  const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as RsaHashedImportParams;
  return { privateKey, algorithm, signing: algorithm };
}

/** The SAN entries @peculiar/x509 can write; directory and other names are reported as left out. */
function generalNames(sans: { type: string; value: string }[]): { names: x509.JsonGeneralName[]; skipped: string[] } {
  const names: x509.JsonGeneralName[] = [];
  const skipped: string[] = [];
  for (const s of sans) {
    if (s.type === 'dns' || s.type === 'ip' || s.type === 'email') names.push({ type: s.type, value: s.value });
    else if (s.type === 'uri') names.push({ type: 'url', value: s.value });
    else skipped.push(`${s.type}:${s.value}`);
  }
  return { names, skipped };
}

/** The `csr` command. */
export const csrCommand: Command = {
  help: CSR_HELP,
  async run(args, io) {
    const { values, positionals } = parseCommand('csr', args, {
      from: { type: 'string' },
      'key-type': { type: 'string' },
      'out-key': { type: 'string' },
      'out-csr': { type: 'string' },
    });
    if (positionals.length) throw new UsageError(`unexpected argument "${escapeTerminal(positionals[0])}" (see certops csr --help)`);
    if (!values.from || !values['out-key'] || !values['out-csr']) throw new UsageError('--from, --out-key and --out-csr are required');
    const keyType = (values['key-type'] ?? 'ec') as KeyType;
    if (!['ec', 'rsa2048', 'rsa3072', 'ed25519'].includes(keyType)) throw new UsageError(`--key-type: expected ec, rsa2048, rsa3072 or ed25519, got "${escapeTerminal(keyType)}"`);
    if (values['out-key'] === values['out-csr']) throw new UsageError('--out-key and --out-csr must be different files');
    const [{ certificate: cert, location }] = loadCertificates(values.from);
    const subject = cert[RAW].cert.subject;
    if (!subject) throw new UsageError(`${location}: the subject name does not decode, so no CSR can repeat it`);
    const { names, skipped } = generalNames(cert.sans);
    const { privateKey, algorithm, signing } = generate(keyType);
    const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
    const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
    const subtle = webcrypto.subtle;
    const keys = {
      privateKey: await subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']),
      publicKey: await subtle.importKey('spki', spki, algorithm, true, ['verify']),
    } as CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create(
      {
        name: new x509.Name(new Uint8Array(subject.der)),
        keys,
        signingAlgorithm: signing,
        extensions: names.length ? [new x509.SubjectAlternativeNameExtension(names)] : [],
      },
      webcrypto as unknown as Crypto,
    );
    const csrPem = toPem(new Uint8Array(csr.rawData), 'CERTIFICATE REQUEST');
    // Checked by the engine's own decoder before anything is written.
    const decoded = analyzeDocument(csrPem).blocks[0]?.csr;
    if (!decoded?.signatureValid) throw new UsageError('the generated CSR does not verify; nothing was written');
    writeNew(values['out-key'], privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600);
    try {
      writeNew(values['out-csr'], csrPem, 0o644);
    } catch (e) {
      unlinkSync(values['out-key']);
      throw e;
    }
    const out = {
      subject: decoded.subject,
      sans: decoded.sans,
      skippedSans: skipped,
      keyType,
      spkiSha256: decoded.publicKey.spkiSha256,
      key: values['out-key'],
      csr: values['out-csr'],
    };
    if (values.json) printJson(io, out);
    else {
      io.out(
        [
          `wrote ${escapeTerminal(out.key)} (new ${keyType} private key, mode 0600) and ${escapeTerminal(out.csr)}`,
          `  subject  ${escapeTerminal(out.subject)}`,
          `  SANs     ${escapeTerminal(out.sans.map((s) => `${s.type.toUpperCase()}:${s.value}`).join(', ') || 'none')}`,
          ...(skipped.length ? [`  left out ${escapeTerminal(skipped.join(', '))} (not expressible in the CSR)`] : []),
          `  spki sha256 ${out.spkiSha256}`,
        ].join('\n') + '\n',
      );
    }
    return EXIT.ok;
  },
};

/** The `ca-bundle` command. */
export const caBundleCommand: Command = {
  help: BUNDLE_HELP,
  async run(args, io) {
    const { values, positionals } = parseCommand('ca-bundle', args, { out: { type: 'string' } });
    if (positionals.length !== 2 || !values.out) throw new UsageError('expected NEW_CA OLD_CA --out FILE (see certops ca-bundle --help)');
    const [newer, older] = positionals.map((p) => ({ path: p, certs: loadCertificates(p) }));
    for (const f of [newer, older]) {
      const notCa = f.certs.find((c) => !c.certificate.isCA);
      if (notCa) throw new UsageError(`${notCa.location}: ${escapeTerminal(notCa.certificate.subject)} is not a CA certificate`);
    }
    const seen = new Set<string>();
    const certs = [...newer.certs, ...older.certs].filter((c) => (seen.has(c.certificate.sha256) ? false : (seen.add(c.certificate.sha256), true)));
    writeNew(values.out, certs.map((c) => toPem(c.der)).join(''), 0o644);
    const list = certs.map((c) => ({ subject: c.certificate.subject, notAfter: c.certificate.notAfter?.toISOString() ?? null, sha256: c.certificate.sha256, from: c.location }));
    if (values.json) printJson(io, { out: values.out, certificates: list });
    else io.out(`wrote ${escapeTerminal(values.out)}, new CA first:${list.map((c, i) => `\n  ${i + 1} ${escapeTerminal(c.subject)} until ${c.notAfter} ${c.sha256}`).join('')}\n`);
    return EXIT.ok;
  },
};
