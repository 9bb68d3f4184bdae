/**
 * Certificate revocation lists (RFC 5280 §5, §6.3) supplied by the caller.
 * Only complete, directly issued CRLs are understood; a CRL from the
 * certificate's issuer that cannot be trusted fails validation instead of
 * being silently ignored, since the caller asked for revocation checking.
 */
import { AlgorithmIdentifier, Certificate, hasKeyUsage, parseAlgorithm } from '../x509/certificate';
import { ERROR_CODES as E, ValidationError, err } from './codes';
import { BitString, DerError, Reader, TAG, Tlv, children, content, encoded, parseOne, readBitString, readBoolean, readIntegerBytes, readOid, readSmallInt, readTime } from '../der';
import { Name, namesEqual, parseName } from '../x509/names';
import { verifySignature } from '../x509/signature';

const CRL_NUMBER = '2.5.29.20';
/** Extensions whose criticality is tolerated: authority key id, CRL number, issuer alt name. */
const KNOWN_CRL_EXTENSIONS = new Set(['2.5.29.35', CRL_NUMBER, '2.5.29.18']);

export interface Crl {
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  readonly tbsSignatureAlg: AlgorithmIdentifier;
  readonly signatureAlg: AlgorithmIdentifier;
  readonly signature: BitString;
  readonly issuer: Name;
  readonly thisUpdate: number;
  readonly nextUpdate: number | undefined;
  /** Revoked serial numbers as lowercase hex of the INTEGER content. */
  readonly revoked: ReadonlySet<string>;
  readonly extensions: readonly { oid: string; critical: boolean }[];
}

function readExtensions(t: Tlv): { oid: string; critical: boolean }[] {
  return children(t).map((e) => {
    const r = new Reader(e);
    const oid = readOid(r.next(TAG.OID));
    const c = r.optional(TAG.BOOLEAN);
    content(r.next(TAG.OCTET_STRING));
    r.end();
    return { oid, critical: c ? readBoolean(c) : false };
  });
}

export function parseCrl(der: Uint8Array): Crl {
  const top = new Reader(parseOne(der));
  const tbsT = top.next(TAG.SEQUENCE);
  const signatureAlg = parseAlgorithm(top.next(TAG.SEQUENCE));
  const signature = readBitString(top.next(TAG.BIT_STRING));
  top.end();
  const r = new Reader(tbsT);
  const v = r.optional(TAG.INTEGER);
  if (v && readSmallInt(v) !== 1) throw new DerError('unknown CRL version');
  const tbsSignatureAlg = parseAlgorithm(r.next(TAG.SEQUENCE));
  const issuer = parseName(r.next(TAG.SEQUENCE));
  const thisUpdate = readTime(r.next());
  const tag = r.peekTag();
  const nextUpdate = tag === TAG.UTC_TIME || tag === TAG.GENERALIZED_TIME ? readTime(r.next()) : undefined;
  const revoked = new Set<string>();
  const list = r.optional(TAG.SEQUENCE);
  if (list) {
    for (const entry of children(list)) {
      const er = new Reader(entry);
      revoked.add(Buffer.from(readIntegerBytes(er.next(TAG.INTEGER))).toString('hex'));
      readTime(er.next());
      er.optional(TAG.SEQUENCE);
      er.end();
    }
  }
  let extensions: { oid: string; critical: boolean }[] = [];
  const ext = r.optional(0xa0);
  if (ext) {
    const xr = new Reader(ext);
    extensions = readExtensions(xr.next(TAG.SEQUENCE));
    xr.end();
  }
  r.end();
  return { der, tbs: encoded(tbsT), tbsSignatureAlg, signatureAlg, signature, issuer, thisUpdate, nextUpdate, revoked, extensions };
}

/**
 * Checks `cert` against every CRL its issuer published. Returns the problems
 * found: `revoked`, or `crl-invalid` for an issuer CRL that cannot be used.
 */
export function revocationProblems(cert: Certificate, issuer: Certificate, crls: readonly Crl[]): ValidationError[] {
  const out: ValidationError[] = [];
  for (const crl of crls) {
    if (!namesEqual(crl.issuer, cert.issuer)) continue;
    // A CRL under the same name but another key belongs to a different CA.
    if (crl.signature.unused !== 0 || verifySignature(crl.signatureAlg, issuer.spki, crl.tbs, crl.signature.bytes) !== undefined) continue;
    if (!Buffer.from(crl.signatureAlg.der).equals(Buffer.from(crl.tbsSignatureAlg.der))) {
      out.push(err(E.CRL_INVALID, 'CRL signature algorithm fields differ'));
      continue;
    }
    if (issuer.keyUsage !== undefined && !hasKeyUsage(issuer, 'cRLSign')) {
      out.push(err(E.CRL_INVALID, 'CRL issuer keyUsage lacks cRLSign'));
      continue;
    }
    const number = crl.extensions.find((e) => e.oid === CRL_NUMBER);
    if (!number) {
      out.push(err(E.CRL_INVALID, 'CRL lacks the CRL number extension'));
      continue;
    }
    if (number.critical) {
      out.push(err(E.CRL_INVALID, 'CRL number extension must be non-critical'));
      continue;
    }
    const unknown = crl.extensions.find((e) => e.critical && !KNOWN_CRL_EXTENSIONS.has(e.oid));
    if (unknown) {
      out.push(err(E.CRL_INVALID, `CRL has unsupported critical extension ${unknown.oid}`));
      continue;
    }
    if (crl.revoked.has(Buffer.from(cert.serial).toString('hex'))) {
      out.push(err(E.REVOKED, `serial ${Buffer.from(cert.serial).toString('hex')} is listed in the issuer's CRL`));
    }
  }
  return out;
}

