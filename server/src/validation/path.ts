/**
 * Path building (RFC 4158 style depth-first search) fused with RFC 5280 §6
 * path validation: every check that only needs the part of the path below a
 * candidate issuer runs when that issuer is tried, so a failing candidate is
 * dropped at once and the search backtracks to the next one (cross-signs,
 * re-issued CAs, expired alternatives). Loops are refused by certificate and
 * by subject+key, and the search is bounded by depth and by a work budget.
 */
import { Certificate } from '../x509/certificate';
import { ERROR_CODES as E, ValidationError, err } from './codes';
import { Budget, NAME_CONSTRAINT_BUDGET, checkNameConstraints } from './constraints';
import { Crl, revocationProblems } from './crl';
import { nameToString } from '../x509/names';
import { PolicyOptions, caProblems, isSelfIssued } from './profile';
import { verifySignature } from '../x509/signature';

/** Caps that keep path building bounded on hostile inputs. */
export const LIMITS = {
  /** Default maximum of non-self-issued intermediates. */
  defaultMaxDepth: 8,
  /** Hard cap on intermediates of any kind, self-issued included. */
  maxPathCertificates: 24,
  /** Candidate issuers examined per validation. */
  maxCandidates: 2048,
  /** Signature verifications per validation. */
  maxSignatures: 256,
} as const;

export interface PathNode {
  readonly cert: Certificate;
  readonly anchor: boolean;
}

export interface BuildInput {
  readonly leaf: Certificate;
  readonly anchors: readonly Certificate[];
  readonly intermediates: readonly Certificate[];
  readonly policy: PolicyOptions;
  readonly maxDepth: number;
  readonly crls: readonly Crl[];
}

export interface BuildResult {
  /** Leaf first, trust anchor last; undefined when no acceptable path exists. */
  readonly path: Certificate[] | undefined;
  /** Why the candidates that were tried failed (deduplicated), when no path was found. */
  readonly errors: ValidationError[];
}

/** Checks the name link and signature from `issuer` to `subject`; returns a failure message or undefined. */
export function issuedBy(issuer: Certificate, subject: Certificate): string | undefined {
  if (issuer.subject.key !== subject.issuer.key) return 'issuer name does not match';
  if (subject.signature.unused !== 0) return 'signature BIT STRING has unused bits';
  return verifySignature(subject.signatureAlg, issuer.spki, subject.tbs, subject.signature.bytes);
}

class Builder {
  private readonly bySubject = new Map<string, PathNode[]>();
  private readonly sigCache = new Map<string, string | undefined>();
  private readonly caCache = new Map<PathNode, ValidationError[]>();
  private readonly failures = new Map<string, ValidationError>();
  private readonly ncBudget = new Budget(NAME_CONSTRAINT_BUDGET);
  private candidates = 0;
  private signatures = 0;
  private exhausted: ValidationError | undefined;

  constructor(private readonly input: BuildInput) {
    const seen = new Set<string>();
    const add = (cert: Certificate, anchor: boolean) => {
      if (seen.has(cert.fingerprint)) return;
      seen.add(cert.fingerprint);
      const list = this.bySubject.get(cert.subject.key) ?? [];
      list.push({ cert, anchor });
      this.bySubject.set(cert.subject.key, list);
    };
    input.anchors.forEach((c) => add(c, true));
    input.intermediates.forEach((c) => add(c, false));
  }

  run(): BuildResult {
    const path = this.extend([this.input.leaf]);
    if (path) return { path, errors: [] };
    const errors = this.exhausted ? [this.exhausted] : [...this.failures.values()];
    return { path: undefined, errors };
  }

  private fail(e: ValidationError, where: Certificate): void {
    const full = err(e.code, `${e.message} (${nameToString(where.subject) || where.fingerprint.slice(0, 16)})`);
    this.failures.set(full.code + full.message, full);
  }

  private ordered(cur: Certificate): PathNode[] {
    const list = this.bySubject.get(cur.issuer.key) ?? [];
    const aki = cur.authorityKeyId?.keyId;
    const score = (n: PathNode) => {
      const ski = n.cert.subjectKeyId;
      const keyMatch = aki && ski ? (Buffer.from(aki).equals(Buffer.from(ski)) ? 0 : 2) : 1;
      return keyMatch * 2 + (n.anchor ? 0 : 1);
    };
    return [...list].sort((a, b) => score(a) - score(b));
  }

  private signatureOk(issuer: Certificate, subject: Certificate): string | undefined {
    const key = issuer.fingerprint + subject.fingerprint;
    if (this.sigCache.has(key)) return this.sigCache.get(key);
    this.signatures++;
    const r = issuedBy(issuer, subject);
    this.sigCache.set(key, r);
    return r;
  }

  private caChecks(n: PathNode): ValidationError[] {
    let r = this.caCache.get(n);
    if (!r) {
      r = caProblems(n.cert, n.anchor ? 'anchor' : 'intermediate', this.input.policy);
      this.caCache.set(n, r);
    }
    return r;
  }

  /** Problems that arise from putting `n` above `path`; empty when the step is acceptable. */
  private stepProblems(path: Certificate[], n: PathNode): ValidationError[] {
    const cur = path[path.length - 1];
    const sig = this.signatureOk(n.cert, cur);
    if (sig) return [err(E.SIGNATURE_INVALID, sig)];
    const out = [...this.caChecks(n)];
    if (out.length) return out;
    const below = path.slice(1).filter((c) => !isSelfIssued(c)).length;
    const pl = n.cert.basicConstraints?.pathLen;
    if (pl !== undefined && below > pl) out.push(err(E.PATH_LENGTH_EXCEEDED, `pathLenConstraint ${pl} allows fewer than the ${below} intermediates below it`));
    if (n.cert.nameConstraints) {
      for (let i = 0; i < path.length && !out.length; i++) {
        // RFC 5280 §6.1.3(b): self-issued intermediates are exempt, the final certificate never is.
        if (i > 0 && isSelfIssued(path[i])) continue;
        const r = checkNameConstraints(n.cert.nameConstraints, path[i], this.ncBudget);
        if (!r.ok) {
          if (r.code === E.WORK_LIMIT_EXCEEDED) this.exhausted = err(r.code, r.message);
          out.push(err(r.code, r.message));
        }
      }
    }
    if (this.input.crls.length) out.push(...revocationProblems(cur, n.cert, this.input.crls));
    return out;
  }

  private extend(path: Certificate[]): Certificate[] | undefined {
    const cur = path[path.length - 1];
    const candidates = this.ordered(cur);
    let tried = 0;
    for (const n of candidates) {
      if (this.exhausted) return undefined;
      if (++this.candidates > LIMITS.maxCandidates || this.signatures >= LIMITS.maxSignatures) {
        this.exhausted = err(E.WORK_LIMIT_EXCEEDED, 'path building gave up after too many candidate issuers');
        return undefined;
      }
      const spkiHex = Buffer.from(n.cert.spki).toString('hex');
      const loops = path.some((c) => c.fingerprint === n.cert.fingerprint ||
        (c.subject.key === n.cert.subject.key && Buffer.from(c.spki).toString('hex') === spkiHex));
      if (loops) continue;
      tried++;
      const problems = this.stepProblems(path, n);
      if (problems.length) {
        problems.forEach((p) => this.fail(p, n.cert));
        continue;
      }
      if (n.anchor) return [...path, n.cert];
      const next = [...path, n.cert];
      const depth = next.slice(1).filter((c) => !isSelfIssued(c)).length;
      if (depth > this.input.maxDepth || next.length - 1 > LIMITS.maxPathCertificates) {
        this.fail(err(E.DEPTH_EXCEEDED, `more than ${this.input.maxDepth} intermediates would be needed`), n.cert);
        continue;
      }
      const found = this.extend(next);
      if (found) return found;
    }
    if (tried === 0) {
      const selfSigned = isSelfIssued(cur) && path.length > 1 && !this.signatureOk(cur, cur);
      if (selfSigned) this.fail(err(E.UNTRUSTED, 'the path ends in a self-signed certificate that is not a trust anchor'), cur);
      else this.fail(err(E.NO_PATH, `no issuer found for "${nameToString(cur.issuer)}"`), cur);
    }
    return undefined;
  }
}

/** Finds a path from `leaf` to one of the anchors that passes every path-dependent check. */
export function buildPath(input: BuildInput): BuildResult {
  return new Builder(input).run();
}
