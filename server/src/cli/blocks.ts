// Reads files the way the editor would (any encoding, PEM or raw DER) and analyses them with the language server's engine.
import { analyzeDocument, AnalyzedBlock, CertificateInfo, decodeFileBytes, DocumentAnalysis, RAW } from '../analysis';
import { parseCertificate } from '../analysis/certificate';
import { labelOfDer } from '../analysis/decode';
import { documentCertificates, DocumentCertificate, servedCertificate } from '../analysis/match';
import { analyzeText } from '../services/analyze';
import { CertopsSettings, DEFAULT_SETTINGS } from '../services/settings';
import { MAX_INPUT_BYTES, readInput, UsageError } from './io';
import { languageOfFile } from './language';

/** A file read and analysed. */
export interface LoadedFile {
  path: string;
  /** The decoded text, or null when the file was binary DER. */
  text: string | null;
  /** True when the file was one DER object rather than PEM text. */
  der: boolean;
  /** The language the text was read as (`pem`, `yaml`, `json`, `dotenv`, `plaintext`, ...), as the editor would; undefined for DER. */
  language?: string;
  analysis: DocumentAnalysis;
}

/** A certificate found in a file (a certificate block or one inside a PKCS#7 block), with where it was. */
export interface FoundCertificate extends DocumentCertificate {
  der: Buffer;
  /** "FILE:LINE" (1-based) for PEM, "FILE" for DER. */
  location: string;
}

/** The PEM text of DER bytes. */
export function toPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** DER starts with a SEQUENCE tag (an OID for EC parameters); a file that starts so and has no BEGIN line is taken as DER. */
function looksLikeDer(bytes: Buffer): boolean {
  return bytes.length > 1 && (bytes[0] === 0x30 || bytes[0] === 0x06) && !bytes.includes('-----BEGIN');
}

/**
 * The editor's settings, except that all of what the CLI reads is analysed: the
 * editor's size limit keeps typing responsive, while `expiry` must not skip the
 * certificates past it. `lint` passes the editor's own settings instead, so its
 * diagnostics (file-too-large included) are the Problems panel's.
 */
export const CLI_SETTINGS: CertopsSettings = { ...DEFAULT_SETTINGS, limits: { maxFileSizeMB: MAX_INPUT_BYTES / 1048576 } };

/**
 * Reads and analyses `path` as the language server would (PEM, or PEM embedded
 * in YAML, JSON, .env, Kubernetes Secrets, text); throws a usage error when it
 * cannot be read or holds no PEM block and is not DER.
 */
export function loadFile(path: string, bytes: Buffer = readInput(path), settings: CertopsSettings = CLI_SETTINGS): LoadedFile {
  if (looksLikeDer(bytes)) {
    // What a DER object is, is the engine's call, so the editor and the CLI agree on it.
    const label = labelOfDer(bytes);
    if (!label) throw new UsageError(`${path}: binary file that is not a DER certificate, key, CSR, CRL, PKCS#7 or parameters`);
    const analysis = analyzeDocument(toPem(bytes, label));
    // Lines of a synthetic PEM text mean nothing to the reader of a DER file: point at the start of it.
    const zero = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    for (const b of analysis.blocks) b.range = zero;
    return { path, text: null, der: true, analysis };
  }
  const text = decodeFileBytes(bytes);
  const languageId = languageOfFile(path, text);
  const analysis = analyzeText(text, languageId, settings);
  if (analysis.blocks.length === 0) throw new UsageError(`${path}: no PEM block${languageId === 'pem' || languageId === 'plaintext' ? '' : ` in the ${languageId} file`} and not DER`);
  return { path, text, der: false, language: languageId, analysis };
}

/** "FILE:LINE" for PEM blocks (1-based), "FILE" for DER files. */
export function where(file: LoadedFile, block: AnalyzedBlock): string {
  return file.der ? file.path : `${file.path}:${block.range.start.line + 1}`;
}

/**
 * The certificates of a file in file order, those inside PKCS#7 blocks (PEM
 * `PKCS7`/`CMS`, DER or BER `.p7b`) in their own order, as the engine's
 * `documentCertificates` lists them; malformed certificate or PKCS#7 blocks
 * and files without any certificate are usage errors.
 */
export function loadCertificateFile(path: string, bytes?: Buffer): { file: LoadedFile; certificates: FoundCertificate[] } {
  const file = loadFile(path, bytes);
  for (const b of file.analysis.blocks) {
    if ((b.kind === 'certificate' && !b.certificate) || (b.kind === 'pkcs7' && !b.pkcs7)) {
      throw new UsageError(`${where(file, b)}: ${b.problems[0] ?? `not a valid ${b.label}`}`);
    }
  }
  const certificates = documentCertificates(file.analysis).map((c) => ({ ...c, der: c.certificate[RAW].der, location: where(file, c.block) }));
  if (certificates.length === 0) throw new UsageError(`${path}: no certificate in the file`);
  return { file, certificates };
}

/** The certificates of a file in file order (see `loadCertificateFile`). */
export function loadCertificates(path: string, bytes?: Buffer): FoundCertificate[] {
  return loadCertificateFile(path, bytes).certificates;
}

/**
 * The certificates of a file with the one a server presents as its own first
 * (the engine's `servedCertificate`: the first of a PEM or DER file, the leaf
 * of an unordered PKCS#7), then the others in file order. A PKCS#7 without
 * one leaf is a usage error.
 */
export function loadLeafFirst(path: string, bytes?: Buffer): FoundCertificate[] {
  const certificates = loadCertificates(path, bytes);
  const served = servedCertificate(certificates);
  if (served?.index === undefined) {
    const leaves = served?.leaves.length ? `certificates ${served.leaves.map((i) => i + 1).join(', ')} issue none of the others` : 'each certificate issues another';
    throw new UsageError(`${path}: PKCS#7 without one leaf (${leaves}); put the leaf first in a PEM file`);
  }
  return [certificates[served.index], ...certificates.filter((_, i) => i !== served.index)];
}

/** Decodes one DER certificate (from a TLS handshake, say) into the engine's model. */
export function decodeCertificate(der: Uint8Array): CertificateInfo {
  return parseCertificate(Buffer.from(der));
}
