/**
 * The plain data model of an analysed PEM document. It follows the CLI's JSON
 * conventions so `certops inspect --json` can print it as is: fingerprints in
 * lowercase hex without separators, dates as Date (ISO 8601 UTC in JSON),
 * names as RFC 4514 strings, SANs as `{type, value}`, ranges as LSP ranges.
 * Raw DER needed for signature checks lives under the `RAW` symbol, which
 * JSON.stringify skips.
 */
import type { Range } from '../pem/scanner';
import type { DecodedCertificate, Problem } from '../x509/certificate';

/** Key for the raw DER attached to decoded objects; invisible to JSON. */
export const RAW: unique symbol = Symbol('certops.raw');

/** One subjectAltName entry. */
export interface SubjectAltName {
  type: 'dns' | 'ip' | 'email' | 'uri' | 'dirName' | 'other';
  value: string;
}

/** The public facts of a public key. */
export interface PublicKeyInfo {
  /** `RSA`, `EC`, `Ed25519`, `DSA`, … */
  algorithm: string;
  /** Modulus or curve size in bits, when known. */
  bits?: number;
  /** Curve name for EC keys (`P-256`, …). */
  curve?: string;
  /** SHA-256 of the DER SubjectPublicKeyInfo: the pin, and how keys are matched to certificates. */
  spkiSha256: string;
}

/** DER pieces of a certificate used by chain checks; never serialised. */
export interface CertificateRaw {
  /**
   * The bytes the certificate was decoded from, trailing octets included, so
   * that path validation handed them refuses what `problems` flags (the
   * fingerprints are of the certificate's own encoding).
   */
  der: Buffer;
  tbs: Buffer;
  signature: Buffer;
  /**
   * The subject's comparison key (RFC 5280 §7.1: string types equivalent,
   * case and whitespace folded), for indexing: equal bytes mean names that
   * chain. Not the DER of the name.
   */
  subjectName: Buffer;
  /** The issuer's comparison key, as `subjectName`. */
  issuerName: Buffer;
  spki: Buffer;
  /** The one decoded model, for chain checks and path validation. */
  cert: DecodedCertificate;
}

/**
 * A deviation the decoder tolerated: which field, what is wrong, and whether
 * it makes the certificate malformed (`error`: shown as pem-malformed, path
 * validation refuses it) or only non-conforming (`warning`).
 */
export type CertificateProblem = Problem;

/** An extension certops does not interpret, shown as opaque bytes. */
export interface OtherExtension {
  oid: string;
  /** Absent when the encoded flag is not a valid BOOLEAN (see `problems`). */
  critical?: boolean;
  /** Length of the value in octets. */
  length: number;
  /** The first octets of the value in hex, with `…` when there are more. */
  preview: string;
}

/** Everything certops shows about one certificate. */
export interface CertificateInfo {
  /** 1, 2 or 3; 0 when the encoded version does not decode (see `problems`). */
  version: number;
  /** RFC 4514, most specific first: `CN=api.example.com,O=Example,C=US`; empty when it does not decode (see `problems`). */
  subject: string;
  issuer: string;
  commonName?: string;
  /** Lowercase hex of the value, `-` first when it is (non-conformingly) negative. */
  serialNumber: string;
  /** Undefined when the encoded time is not a valid time (see `problems`): never a rolled-over date. */
  notBefore: Date | undefined;
  notAfter: Date | undefined;
  sans: SubjectAltName[];
  publicKey: PublicKeyInfo;
  signatureAlgorithm: string;
  /** Hash used by the signature (`sha256`, `sha1`, `md5`, …) when it is one of the hashed schemes. */
  signatureHash?: string;
  sha256: string;
  sha1: string;
  spkiSha256: string;
  basicConstraints?: { ca: boolean; pathLen?: number };
  keyUsage?: string[];
  extendedKeyUsage?: string[];
  subjectKeyId?: string;
  authorityKeyId?: string;
  authorityInfoAccess: { ocsp: string[]; caIssuers: string[] };
  crlDistributionPoints: string[];
  /** Subject and issuer names are identical (a root or a self-issued CA). */
  selfIssued: boolean;
  /** Whether the certificate may issue others: CA:TRUE and, when key usage is present, keyCertSign. */
  isCA: boolean;
  /** Extensions certops does not interpret. */
  otherExtensions?: OtherExtension[];
  /** Every deviation from DER and RFC 5280 the decoder found; a field with an `error` here is absent or unknown. */
  problems: CertificateProblem[];
  [RAW]: CertificateRaw;
}

/** A private key's public facts; never any private material. */
export interface PrivateKeyInfo {
  /** `RSA`, `EC`, `Ed25519`, … or `unknown` when encrypted and the type is hidden. */
  type: string;
  format: 'pkcs8' | 'pkcs1' | 'sec1' | 'openssh' | 'encrypted-pkcs8' | 'legacy-encrypted' | 'dsa';
  encrypted: boolean;
  /** How it is encrypted (`AES-256-CBC`, `PBES2`, `aes256-ctr`), when it is. */
  encryption?: string;
  bits?: number;
  curve?: string;
  /** SHA-256 of the matching public key's SPKI, when it can be derived (not for encrypted keys). */
  spkiSha256?: string;
}

/** A PUBLIC KEY or RSA PUBLIC KEY block. */
export interface PublicKeyBlockInfo extends PublicKeyInfo {
  format: 'spki' | 'pkcs1';
}

/** A certificate signing request. */
export interface CsrInfo {
  subject: string;
  commonName?: string;
  sans: SubjectAltName[];
  publicKey: PublicKeyInfo;
  signatureAlgorithm: string;
  signatureValid: boolean;
}

/** A certificate revocation list. */
export interface CrlInfo {
  issuer: string;
  thisUpdate: Date;
  nextUpdate?: Date;
  revokedCount: number;
  signatureAlgorithm: string;
}

/** A PKCS#7 / CMS bundle. */
export interface Pkcs7Info {
  certificates: CertificateInfo[];
  crlCount: number;
}

/** EC, DH or DSA domain parameters. */
export interface ParametersInfo {
  kind: 'EC' | 'DH' | 'DSA';
  curve?: string;
  bits?: number;
}

/** What a block's label says it holds. */
export type BlockKind = 'certificate' | 'csr' | 'crl' | 'privateKey' | 'publicKey' | 'pkcs7' | 'parameters' | 'unknown';

/** The decoded content of one block, cached by label and body. */
export interface BlockContent {
  kind: BlockKind;
  /** Why the block is malformed (bad base64, missing END, DER that does not parse as the label says). */
  problems: string[];
  certificate?: CertificateInfo;
  privateKey?: PrivateKeyInfo;
  publicKey?: PublicKeyBlockInfo;
  csr?: CsrInfo;
  crl?: CrlInfo;
  pkcs7?: Pkcs7Info;
  parameters?: ParametersInfo;
}

/** One PEM block of a document, decoded. */
export interface AnalyzedBlock extends BlockContent {
  /** Zero-based position among the document's blocks. */
  index: number;
  label: string;
  range: Range;
  /** Character offsets of `range` in the document text. */
  offsets: { start: number; end: number };
  /** First line of OpenSSL annotation lines (`Bag Attributes`, `subject=`) attached above the block. */
  attachedStartLine: number;
  headers: [string, string][];
}

/** How the certificates of one file relate to each other. */
export interface ChainAnalysis {
  /**
   * `single`: one certificate; `chain`: a server or client chain (leaf, intermediates, maybe a root);
   * `bundle`: a collection of CAs or unrelated certificates, where order means nothing; `none`: no certificates.
   */
  mode: 'none' | 'single' | 'chain' | 'bundle';
  /** Block indexes of the distinct certificates in file order (later duplicates left out). */
  certificates: number[];
  /** Block index → block index of the earlier identical certificate. */
  duplicates: Map<number, number>;
  /** Block index → block index of its issuer in this file (names, key ids and signature agree). */
  issuerOf: Map<number, number>;
  /**
   * Distinct certificates that share a subject name as names chain (the
   * normalized comparison of x509/names), each group in file order; only
   * groups of two or more. A CA rotation's overlap bundle has one.
   */
  sameSubject: number[][];
  /** For `chain`: the leaf-first order, when the certificates form one path; else undefined. */
  order?: number[];
  /** For `chain`: problems between neighbours in file order. */
  links: ChainLink[];
  /** Set once the signature check budget ran out before every issuer was decided (see analysis/chain.ts). */
  limited?: ChainLimit;
}

/** How far the issuer search of a file went before its signature check budget ran out. */
export interface ChainLimit {
  /** Issuer candidates by name and key identifiers, summed over the certificates. */
  candidatePairs: number;
  /** Signature checks made. */
  checked: number;
  /** The budget: checks that find no issuer, per document. */
  failedLimit: number;
  /** Block indexes of the certificates whose candidates were not all checked. */
  undecided: number[];
}

/** The relation between a certificate and the one that follows it in a chain file. */
export interface ChainLink {
  subject: number;
  next: number;
  /** `ok`: next issued subject; `name`: names or key ids do not link; `signature`: they link but the signature fails. */
  status: 'ok' | 'name' | 'signature';
}

/** The result of analysing one document. */
export interface DocumentAnalysis {
  blocks: AnalyzedBlock[];
  chain: ChainAnalysis;
  /** Set when the text exceeded the size limit and only its beginning was analysed. */
  truncated?: { limitBytes: number; totalBytes: number; analysedBytes: number };
}
