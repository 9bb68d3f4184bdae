// Reads files the way the editor would (any encoding, PEM or raw DER) and analyses them with the language server's engine.
import { analyzeDocument, AnalyzedBlock, CertificateInfo, decodeFileBytes, DocumentAnalysis, RAW } from '../analysis';
import { parseCertificate } from '../analysis/certificate';
import { decodeBlock } from '../analysis/decode';
import { scanPem } from '../pem/scanner';
import { readInput, UsageError } from './io';

/** A file read and analysed. */
export interface LoadedFile {
  path: string;
  /** The decoded text, or null when the file was binary DER. */
  text: string | null;
  /** True when the file was one DER object rather than PEM text. */
  der: boolean;
  analysis: DocumentAnalysis;
}

/** A certificate found in a file, with where it was. */
export interface FoundCertificate {
  block: AnalyzedBlock;
  cert: CertificateInfo;
  der: Buffer;
  /** "FILE:LINE" (1-based) for PEM, "FILE" for DER. */
  location: string;
}

// The order matters: a certificate also parses as some other SEQUENCEs, so the most common kinds come first.
const DER_LABELS = ['CERTIFICATE', 'PRIVATE KEY', 'EC PRIVATE KEY', 'RSA PRIVATE KEY', 'CERTIFICATE REQUEST', 'X509 CRL', 'PUBLIC KEY', 'PKCS7'];

/** The PEM text of DER bytes. */
export function toPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** DER starts with a SEQUENCE tag; a file that starts so and has no BEGIN line is taken as DER. */
function looksLikeDer(bytes: Buffer): boolean {
  return bytes.length > 1 && bytes[0] === 0x30 && !bytes.includes('-----BEGIN');
}

/** The PEM label a DER object decodes as, or undefined when it decodes as none of them. */
function derLabel(der: Buffer): string | undefined {
  for (const label of DER_LABELS) {
    const [block] = scanPem(toPem(der, label));
    const content = decodeBlock(block);
    if (content.problems.length === 0 && content.kind !== 'unknown') return label;
  }
  return undefined;
}

/** Reads and analyses `path`; throws a usage error when it cannot be read or holds no PEM block and is not DER. */
export function loadFile(path: string, bytes: Buffer = readInput(path)): LoadedFile {
  if (looksLikeDer(bytes)) {
    const label = derLabel(bytes);
    if (!label) throw new UsageError(`${path}: binary file that is not a DER certificate, key, CSR, CRL or PKCS#7`);
    const analysis = analyzeDocument(toPem(bytes, label));
    // Lines of a synthetic PEM text mean nothing to the reader of a DER file: point at the start of it.
    const zero = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    for (const b of analysis.blocks) b.range = zero;
    return { path, text: null, der: true, analysis };
  }
  const text = decodeFileBytes(bytes);
  const analysis = analyzeDocument(text);
  if (analysis.blocks.length === 0) throw new UsageError(`${path}: no PEM block and not DER`);
  return { path, text, der: false, analysis };
}

/** "FILE:LINE" for PEM blocks (1-based), "FILE" for DER files. */
export function where(file: LoadedFile, block: AnalyzedBlock): string {
  return file.der ? file.path : `${file.path}:${block.range.start.line + 1}`;
}

/** The certificates of a file in file order; malformed certificate blocks and files without any are usage errors. */
export function loadCertificates(path: string, bytes?: Buffer): FoundCertificate[] {
  const file = loadFile(path, bytes);
  const found: FoundCertificate[] = [];
  for (const block of file.analysis.blocks) {
    if (block.kind !== 'certificate') continue;
    if (!block.certificate) throw new UsageError(`${where(file, block)}: ${block.problems[0] ?? 'not a valid certificate'}`);
    found.push({ block, cert: block.certificate, der: block.certificate[RAW].der, location: where(file, block) });
  }
  if (found.length === 0) throw new UsageError(`${path}: no certificate in the file`);
  return found;
}

/** Decodes one DER certificate (from a TLS handshake, say) into the engine's model. */
export function decodeCertificate(der: Uint8Array): CertificateInfo {
  return parseCertificate(Buffer.from(der));
}
