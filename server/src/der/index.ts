/**
 * The one DER reader behind both the display side and path validation. Node's
 * X509Certificate hides key usage bits, key identifiers, path length, CRL
 * distribution points and the signature algorithm, and parsing with
 * @peculiar/x509 costs ~4x more per certificate; walking the DER directly is
 * what keeps a 10,000-certificate bundle fast.
 *
 * An element is read in one of three modes, and its children inherit it:
 * strict (DER's rules enforced, any deviation throws), recording (DER's
 * rules checked, deviations that leave the value unambiguous are collected
 * in a `Sink` with the field they were found in: how certificates are read,
 * once, for every face, see server/src/x509) and tolerant (CSRs, CRLs and
 * keys for display). Whatever leaves a value unknown (truncation, an
 * impossible date, an empty BOOLEAN) throws in every mode.
 */

export * from './tlv';
export * from './values';
