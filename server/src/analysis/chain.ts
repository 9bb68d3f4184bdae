import type { AnalyzedBlock, CertificateInfo, ChainAnalysis, ChainLink } from './model';
import { RAW } from './model';
import { checkIssued, namesLink } from './issuance';

/**
 * `issuerOf` whose signatures are checked when an entry is first read. In a
 * bundle nothing in the diagnostics depends on who issued whom, and verifying
 * every signature of a 10,000-certificate bundle took seconds; a hover reads
 * one entry, links and the CLI read them all. Iteration and `size` settle
 * every entry first and keep file order.
 */
class LazyIssuers extends Map<number, number> {
  private readonly undecided: number[];
  private next = 0;

  constructor(
    private readonly candidatesOf: Map<number, number[]>,
    private readonly issuerFor: (subject: number, candidates: number[]) => number | undefined,
  ) {
    super();
    this.undecided = [...candidatesOf.keys()];
  }

  private decide(subject: number): void {
    const candidates = this.candidatesOf.get(subject);
    if (!candidates) return;
    this.candidatesOf.delete(subject);
    const issuer = this.issuerFor(subject, candidates);
    if (issuer !== undefined) super.set(subject, issuer);
  }

  /** Decides entries for up to `budgetMs`; true once every entry is decided. */
  settleSome(budgetMs: number): boolean {
    const end = performance.now() + budgetMs;
    while (this.next < this.undecided.length) {
      this.decide(this.undecided[this.next++]);
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

/**
 * Checks, for up to `budgetMs`, issuer signatures an analysis left for later;
 * true once `issuerOf` is complete. Lets a server spread the work of a large
 * bundle over several turns of its event loop.
 */
export function settleIssuers(chain: ChainAnalysis, budgetMs: number): boolean {
  return chain.issuerOf instanceof LazyIssuers ? chain.issuerOf.settleSome(budgetMs) : true;
}

/**
 * Works out how a file's certificates relate: whether it is a chain (a leaf
 * and its issuers, as a server sends them) or a bundle (CAs in no particular
 * order, like /etc/ssl/certs/ca-certificates.crt), who issued whom, and the
 * leaf-first order when the certificates form one path.
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
  const result: ChainAnalysis = { mode: 'none', certificates, duplicates, issuerOf: new Map(), links: [] };
  if (certificates.length === 0) return result;
  const cert = (i: number) => blocks[i].certificate as CertificateInfo;

  const bySubject = new Map<string, number[]>();
  for (const i of certificates) {
    const k = cert(i)[RAW].subjectName.toString('latin1');
    const list = bySubject.get(k);
    if (list) list.push(i);
    else bySubject.set(k, [i]);
  }
  // Issuer candidates by name and key identifiers; signatures are checked only once the answer matters.
  let nameLinks = 0;
  const candidatesOf = new Map<number, number[]>();
  const possibleIssuers = new Set<number>();
  for (const i of certificates) {
    const c = cert(i);
    if (c.selfIssued) continue;
    const candidates = bySubject.get(c[RAW].issuerName.toString('latin1')) ?? [];
    if (candidates.length > 0) nameLinks++;
    const linked = candidates.filter((j) => j !== i && namesLink(cert(j), c));
    if (linked.length === 0) continue;
    candidatesOf.set(i, linked);
    for (const j of linked) possibleIssuers.add(j);
  }
  const issuerOf = new LazyIssuers(candidatesOf, (i, candidates) => candidates.find((j) => checkIssued(cert(j), cert(i)) === 'ok'));
  result.issuerOf = issuerOf;

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
  issuerOf.settleAll();
  // A certificate that issues another one here is a (misconfigured) issuer, not a second leaf.
  const issuers = new Set(result.issuerOf.values());
  const leaves = certificates.filter((i) => !cert(i).isCA && !cert(i).selfIssued && !issuers.has(i)).length;
  const chain = selfIssued <= 1 && (leaves === 1 || (leaves === 0 && nameLinks > 0));
  result.mode = chain ? 'chain' : 'bundle';
  if (!chain) return result;

  for (let k = 0; k + 1 < certificates.length; k++) {
    const link: ChainLink = { subject: certificates[k], next: certificates[k + 1], status: checkIssued(cert(certificates[k + 1]), cert(certificates[k])) };
    result.links.push(link);
  }
  result.order = leafFirstOrder(certificates, result.issuerOf);
  return result;
}

/** The path from the one certificate nobody here was issued by, up through its issuers, if it covers them all. */
function leafFirstOrder(certificates: number[], issuerOf: Map<number, number>): number[] | undefined {
  const issuers = new Set(issuerOf.values());
  const starts = certificates.filter((i) => !issuers.has(i));
  if (starts.length !== 1) return undefined;
  const order = [starts[0]];
  for (let i = issuerOf.get(starts[0]); i !== undefined && !order.includes(i); i = issuerOf.get(i)) order.push(i);
  return order.length === certificates.length ? order : undefined;
}

/** A block's place in the chain for display: "2 of 3", or undefined outside chains. */
export function chainPosition(chain: ChainAnalysis, blockIndex: number): { position: number; total: number } | undefined {
  const list = chain.mode === 'chain' ? (chain.order ?? chain.certificates) : chain.mode === 'single' ? chain.certificates : undefined;
  const at = list?.indexOf(blockIndex) ?? -1;
  return list && at >= 0 ? { position: at + 1, total: list.length } : undefined;
}
