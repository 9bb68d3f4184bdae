import type { AnalyzedBlock, CertificateInfo, ChainAnalysis, ChainLink } from './model';
import { RAW } from './model';
import { checkIssued } from './issuance';

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
  let nameLinks = 0;
  for (const i of certificates) {
    const c = cert(i);
    if (c.selfIssued) continue;
    const candidates = bySubject.get(c[RAW].issuerName.toString('latin1')) ?? [];
    if (candidates.length > 0) nameLinks++;
    const issuer = candidates.find((j) => j !== i && checkIssued(cert(j), c) === 'ok');
    if (issuer !== undefined) result.issuerOf.set(i, issuer);
  }

  if (certificates.length === 1) {
    result.mode = 'single';
    return result;
  }
  const selfIssued = certificates.filter((i) => cert(i).selfIssued).length;
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
