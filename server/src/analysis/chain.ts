import type { AnalyzedBlock, CertificateInfo, ChainAnalysis, ChainLimit, ChainLink } from './model';
import { RAW } from './model';
import { checkIssued } from './issuance';

/**
 * Signature checks that find no issuer, per document, before the chain
 * analysis stops. A check that finds the issuer ends that certificate's
 * search, so a document costs at most one successful check per certificate
 * plus this many failed ones, however its certificates name each other
 * (200 CAs naming each other are 20,000 candidate pairs). Real files fail a
 * handful: a renewed CA under the same name, a cross-sign.
 */
export const MAX_FAILED_SIGNATURE_CHECKS = 256;

/** Statistics for tests and benchmarks: issuer signature checks made by chain analyses. */
export const chainStats = { signatureChecks: 0 };

/**
 * Issuer candidates of one name (and, where the subject asks for one,
 * authority key identifier), in file order. Lists are shared by every
 * certificate naming the same issuer, so the index stays linear in the number
 * of certificates even when each of them names all the others.
 */
interface CandidateList {
  members: number[];
  /** How many certificates draw candidates from this list, and the first one. */
  refs: number;
  firstRef: number;
}

/**
 * `issuerOf` whose signatures are checked when an entry is first read, within
 * the document's budget of failed checks. In a bundle nothing in the
 * diagnostics depends on who issued whom, and verifying every signature of a
 * 10,000-certificate bundle took seconds; a hover reads one entry, links and
 * the CLI read them all. Iteration and `size` settle every entry first and
 * keep file order.
 */
class LazyIssuers extends Map<number, number> {
  private readonly undecided: number[];
  private next = 0;
  /** Signature checks made, and those that found no issuer. */
  checked = 0;
  failed = 0;
  /** Certificates whose candidates were not all tried because the budget ran out. */
  readonly skipped: number[] = [];
  /** Where a certificate's search paused: list and member index. */
  private readonly progress = new Map<number, [number, number]>();

  constructor(
    private readonly candidatesOf: Map<number, CandidateList[]>,
    private readonly cert: (i: number) => CertificateInfo,
    private readonly candidatePairs: number,
    countOf: Map<number, number>,
  ) {
    super();
    // Fewest candidates first (file order among equals): certificates whose key identifiers single out their issuer
    // are decided before a crowd of same-name CAs can spend the budget.
    this.undecided = [...candidatesOf.keys()].sort((a, b) => (countOf.get(a) as number) - (countOf.get(b) as number));
  }

  /**
   * Checks `subject`'s candidates in order until one issued it or the budget
   * runs out; false when `deadline` came first (after at least one check), to
   * go on from there next time. One certificate can name thousands.
   */
  private decide(subject: number, deadline = Infinity): boolean {
    const lists = this.candidatesOf.get(subject);
    if (!lists) return true;
    let [l, m] = this.progress.get(subject) ?? [0, 0];
    let checkedNow = false;
    for (; l < lists.length; l++, m = 0) {
      const members = lists[l].members;
      for (; m < members.length; m++) {
        const j = members[m];
        if (j === subject) continue;
        if (this.failed >= MAX_FAILED_SIGNATURE_CHECKS) {
          this.skipped.push(subject);
          return this.done(subject);
        }
        if (checkedNow && performance.now() >= deadline) {
          this.progress.set(subject, [l, m]);
          return false;
        }
        checkedNow = true;
        this.checked++;
        chainStats.signatureChecks++;
        if (checkIssued(this.cert(j), this.cert(subject)) === 'ok') {
          super.set(subject, j);
          return this.done(subject);
        }
        this.failed++;
      }
    }
    return this.done(subject);
  }

  private done(subject: number): true {
    this.candidatesOf.delete(subject);
    this.progress.delete(subject);
    return true;
  }

  /** Decides entries for up to `budgetMs`; true once every entry is decided. */
  settleSome(budgetMs: number): boolean {
    const end = performance.now() + budgetMs;
    while (this.next < this.undecided.length) {
      if (!this.decide(this.undecided[this.next], end)) return false;
      this.next++;
      if (performance.now() >= end) break;
    }
    if (this.next < this.undecided.length) return false;
    if (this.undecided.length > 0) {
      // Entries read one by one went in out of order; iteration follows the file.
      const entries = [...super.entries()].sort((a, b) => a[0] - b[0]);
      super.clear();
      for (const [k, v] of entries) super.set(k, v);
      this.undecided.length = 0;
      this.next = 0;
    }
    return true;
  }

  /** The budget ran out so far: what was left unchecked. */
  limit(): ChainLimit | undefined {
    if (this.skipped.length === 0) return undefined;
    const undecided = [...this.skipped].sort((a, b) => a - b);
    return { candidatePairs: this.candidatePairs, checked: this.checked, failedLimit: MAX_FAILED_SIGNATURE_CHECKS, undecided };
  }

  settleAll(): this {
    this.settleSome(Infinity);
    return this;
  }

  override get(subject: number): number | undefined {
    this.decide(subject);
    return super.get(subject);
  }

  override has(subject: number): boolean {
    this.decide(subject);
    return super.has(subject);
  }

  override get size(): number {
    this.settleAll();
    return super.size;
  }

  override entries(): MapIterator<[number, number]> {
    return this.settleAll() && super.entries();
  }

  override keys(): MapIterator<number> {
    return this.settleAll() && super.keys();
  }

  override values(): MapIterator<number> {
    return this.settleAll() && super.values();
  }

  override forEach(f: (value: number, key: number, map: Map<number, number>) => void, thisArg?: unknown): void {
    this.settleAll();
    super.forEach(f, thisArg);
  }

  override [Symbol.iterator](): MapIterator<[number, number]> {
    return this.entries();
  }
}

/** What a chain still needs decided: the issuers, then its mode from them. */
interface Pending {
  issuers: LazyIssuers;
  finish(): void;
}

const pendingOf = new WeakMap<ChainAnalysis, Pending>();

/** Whether the chain's `mode`, `order` and `links` are final (no signature check pending for them). */
export function chainSettled(chain: ChainAnalysis): boolean {
  return !pendingOf.has(chain);
}

/**
 * Does, for up to `budgetMs`, the signature checks the chain's `mode`,
 * `order`, `links` and `limited` wait for; true once they are final (reading
 * them earlier does the rest at once). Lets a server spread the work over
 * several turns of its event loop. A bundle's own issuers are left for
 * `settleIssuers`.
 */
export function settleChain(chain: ChainAnalysis, budgetMs: number): boolean {
  const pending = pendingOf.get(chain);
  if (!pending) return true;
  if (!pending.issuers.settleSome(budgetMs)) return false;
  pending.finish();
  return true;
}

/**
 * Checks, for up to `budgetMs`, issuer signatures an analysis left for later;
 * true once `issuerOf` is complete. Lets a server spread the work of a large
 * bundle over several turns of its event loop.
 */
export function settleIssuers(chain: ChainAnalysis, budgetMs: number): boolean {
  if (!settleChain(chain, budgetMs)) return false;
  return chain.issuerOf instanceof LazyIssuers ? chain.issuerOf.settleSome(budgetMs) : true;
}

/** The names as `namesLink` compares them, as Map keys. */
const subjectKey = (c: CertificateInfo) => c[RAW].subjectName.toString('latin1');
const issuerKey = (c: CertificateInfo) => c[RAW].issuerName.toString('latin1');

/**
 * Works out how a file's certificates relate: whether it is a chain (a leaf
 * and its issuers, as a server sends them) or a bundle (CAs in no particular
 * order, like /etc/ssl/certs/ca-certificates.crt), who issued whom, and the
 * leaf-first order when the certificates form one path. Work is linear in the
 * number of certificates and names; signature checks are bounded by
 * `MAX_FAILED_SIGNATURE_CHECKS` and happen only once an answer needs them.
 */
export function analyzeChain(blocks: AnalyzedBlock[]): ChainAnalysis {
  const duplicates = new Map<number, number>();
  const seen = new Map<string, number>();
  const certificates: number[] = [];
  for (const b of blocks) {
    const c = b.certificate;
    if (!c) continue;
    const first = seen.get(c.sha256);
    if (first !== undefined) duplicates.set(b.index, first);
    else {
      seen.set(c.sha256, b.index);
      certificates.push(b.index);
    }
  }
  const result: ChainAnalysis = { mode: 'none', certificates, duplicates, issuerOf: new Map(), sameSubject: [], links: [] };
  if (certificates.length === 0) return result;
  const cert = (i: number) => blocks[i].certificate as CertificateInfo;

  // Subjects by name, and within a name by subject key identifier: the certificates `namesLink` accepts.
  const byName = new Map<string, { all: CandidateList; noKeyId: CandidateList; byKeyId: Map<string, CandidateList> }>();
  const list = (): CandidateList => ({ members: [], refs: 0, firstRef: -1 });
  const subjectKeys = new Map<number, string>();
  for (const i of certificates) {
    const c = cert(i);
    const k = subjectKey(c);
    subjectKeys.set(i, k);
    let entry = byName.get(k);
    if (!entry) byName.set(k, (entry = { all: list(), noKeyId: list(), byKeyId: new Map() }));
    entry.all.members.push(i);
    if (c.subjectKeyId === undefined) entry.noKeyId.members.push(i);
    else {
      let l = entry.byKeyId.get(c.subjectKeyId);
      if (!l) entry.byKeyId.set(c.subjectKeyId, (l = list()));
      l.members.push(i);
    }
  }
  for (const entry of byName.values()) if (entry.all.members.length > 1) result.sameSubject.push([...entry.all.members]);
  let nameLinks = 0;
  let candidatePairs = 0;
  const candidatesOf = new Map<number, CandidateList[]>();
  const countOf = new Map<number, number>();
  for (const i of certificates) {
    const c = cert(i);
    if (c.selfIssued) continue;
    const ik = issuerKey(c);
    const entry = byName.get(ik);
    if (!entry) continue;
    if (entry.all.members.length > 1 || entry.all.members[0] !== i) nameLinks++;
    // Matching key identifiers first: where names are shared, they tell the issuer apart.
    const aki = c.authorityKeyId;
    const lists = aki === undefined ? [entry.all] : [entry.byKeyId.get(aki), entry.noKeyId].filter((l): l is CandidateList => l !== undefined && l.members.length > 0);
    let count = lists.reduce((n, l) => n + l.members.length, 0);
    // Not itself, when its own name and key identifier are among those it asks for.
    if (subjectKeys.get(i) === ik && (aki === undefined || c.subjectKeyId === undefined || c.subjectKeyId === aki)) count--;
    if (count === 0) continue;
    candidatePairs += count;
    for (const l of lists) {
      if (l.refs++ === 0) l.firstRef = i;
    }
    candidatesOf.set(i, lists);
    countOf.set(i, count);
  }
  // A certificate is a possible issuer when a certificate other than itself lists it.
  const possibleIssuers = new Set<number>();
  for (const lists of candidatesOf.values()) {
    for (const l of lists) {
      if (l.refs === 0) continue;
      for (const j of l.members) if (l.refs > 1 || l.firstRef !== j) possibleIssuers.add(j);
      // Each list's members are counted once, however many certificates share it.
      l.refs = 0;
    }
  }
  const issuerOf = new LazyIssuers(candidatesOf, cert, candidatePairs, countOf);
  result.issuerOf = issuerOf;
  // A bundle's issuers are decided as they are read, so whether the budget ran out is known only as of now.
  Object.defineProperty(result, 'limited', { enumerable: true, configurable: true, get: () => (pendingOf.get(result)?.finish(), issuerOf.limit()) });

  if (certificates.length === 1) {
    result.mode = 'single';
    return result;
  }
  const selfIssued = certificates.filter((i) => cert(i).selfIssued).length;
  // Signatures can only remove issuers, so with two leaves even among the
  // certificates nothing names as its issuer, this is a bundle whatever they say.
  const leavesAtLeast = certificates.filter((i) => !cert(i).isCA && !cert(i).selfIssued && !possibleIssuers.has(i)).length;
  if (selfIssued > 1 || leavesAtLeast > 1) {
    result.mode = 'bundle';
    return result;
  }

  // Whether this is a chain depends on the signatures: mode, order and links are decided once they are checked.
  const finish = (): void => {
    if (!pendingOf.delete(result)) return;
    issuerOf.settleAll();
    const decided = decideChain(issuerOf, certificates, cert, nameLinks);
    for (const key of LAZY_KEYS) Object.defineProperty(result, key, { value: decided[key], enumerable: true, writable: true, configurable: true });
  };
  for (const key of LAZY_KEYS) Object.defineProperty(result, key, { enumerable: true, configurable: true, get: () => (finish(), result[key]) });
  pendingOf.set(result, { issuers: issuerOf, finish });
  return result;
}

const LAZY_KEYS = ['mode', 'order', 'links'] as const;

/** Chain or bundle, from issuers already settled. */
function decideChain(
  issuerOf: LazyIssuers,
  certificates: number[],
  cert: (i: number) => CertificateInfo,
  nameLinks: number,
): Pick<ChainAnalysis, (typeof LAZY_KEYS)[number]> {
  // Unchecked candidates might be the issuers that make this a chain: no order or link could be trusted.
  if (issuerOf.limit()) return { mode: 'bundle', order: undefined, links: [] };
  const selfIssued = certificates.filter((i) => cert(i).selfIssued).length;
  // A certificate that issues another one here is a (misconfigured) issuer, not a second leaf.
  const issuers = new Set(issuerOf.values());
  const leaves = certificates.filter((i) => !cert(i).isCA && !cert(i).selfIssued && !issuers.has(i)).length;
  const chain = selfIssued <= 1 && (leaves === 1 || (leaves === 0 && nameLinks > 0));
  if (!chain) return { mode: 'bundle', order: undefined, links: [] };
  const links: ChainLink[] = [];
  for (let k = 0; k + 1 < certificates.length; k++) {
    links.push({ subject: certificates[k], next: certificates[k + 1], status: checkIssued(cert(certificates[k + 1]), cert(certificates[k])) });
  }
  return { mode: 'chain', order: leafFirstOrder(certificates, issuerOf), links };
}

/** The path from the one certificate nobody here was issued by, up through its issuers, if it covers them all. */
function leafFirstOrder(certificates: number[], issuerOf: Map<number, number>): number[] | undefined {
  const issuers = new Set(issuerOf.values());
  const starts = certificates.filter((i) => !issuers.has(i));
  if (starts.length !== 1) return undefined;
  const order = [starts[0]];
  const inOrder = new Set(order);
  for (let i = issuerOf.get(starts[0]); i !== undefined && !inOrder.has(i); i = issuerOf.get(i)) {
    order.push(i);
    inOrder.add(i);
  }
  return order.length === certificates.length ? order : undefined;
}

/** A block's place in the chain for display: "2 of 3", or undefined outside chains. */
export function chainPosition(chain: ChainAnalysis, blockIndex: number): { position: number; total: number } | undefined {
  const list = chain.mode === 'chain' ? (chain.order ?? chain.certificates) : chain.mode === 'single' ? chain.certificates : undefined;
  const at = list?.indexOf(blockIndex) ?? -1;
  return list && at >= 0 ? { position: at + 1, total: list.length } : undefined;
}
