/**
 * What each inventory endpoint looks like right now: the certificate on disk,
 * the key beside it, and what the server really serves, judged into states.
 * Used by the hosts tree, `certops status` and the rotation's pre-checks.
 */
import { analyzeDocument, CertificateInfo, decodeFileBytes, DocumentAnalysis } from '../analysis';
import { resolveTrustStore, TrustStore } from '../analysis/truststore';
import { EndpointEntry, HostEntry, Inventory, selectEndpoints } from '../inventory';
import { ProbeError, probeTls, ProbeResult } from '../probe';
import { computeDiagnostics } from '../services/diagnostics';
import { daysUntil } from '../services/context';
import { DEFAULT_SETTINGS } from '../services/settings';
import { RemoteHost, RemoteStat, SshPool } from '../ssh';

/** The states an endpoint can be in. */
export type EndpointState = 'ok' | 'expiring' | 'expired' | 'served-differs' | 'key-exposed' | 'key-mismatch' | 'chain-incomplete' | 'unreachable' | 'error';

/** Most severe first: the order of `states`. */
export const STATE_ORDER: readonly EndpointState[] = ['unreachable', 'error', 'expired', 'key-mismatch', 'served-differs', 'key-exposed', 'expiring', 'chain-incomplete', 'ok'];

/** A certificate's facts as the tree and `status --json` show them. */
export interface CertificateFacts {
  subject: string;
  issuer: string;
  serialNumber: string;
  sha256: string;
  spkiSha256: string;
  /** Absent when the certificate's notAfter does not decode (the model never guesses a date). */
  notAfter?: string;
  daysLeft?: number;
  sans: string[];
}

/** One file of an endpoint: metadata, and the certificate when it holds one. */
export interface FileFacts {
  path: string;
  stat?: RemoteStat;
  /** Why the file could not be read or understood. */
  error?: string;
  certificate?: CertificateFacts;
}

/** The status of one endpoint. */
export interface EndpointStatus {
  host: string;
  endpoint: string;
  /** Most severe first; ['ok'] when all is well. */
  states: EndpointState[];
  /** One sentence per state (untrusted strings are escaped by the printer, not here). */
  messages: string[];
  files: { cert: FileFacts; key?: FileFacts; ca?: FileFacts };
  /** The served leaf; `chain` is the served chain's SHA-256s, leaf first. */
  served?: CertificateFacts & { chain: string[] };
  probeError?: string;
  checkedAt: string;
}

/** Options of endpointStatus. */
export interface StatusOptions {
  now?: Date;
  /** Trust anchors for `chain-incomplete` (default the system store). */
  trust?: TrustStore;
  /** Per-probe timeout (default 10 s). */
  probeTimeoutMs?: number;
}

const MAX_CERT_FILE = 4 * 1024 * 1024;

/** Judges one endpoint; `remote` is the host's connection, or the Error that prevented it. */
export async function endpointStatus(host: HostEntry, endpoint: EndpointEntry, remote: RemoteHost | Error, opts: StatusOptions = {}): Promise<EndpointStatus> {
  const now = opts.now ?? new Date();
  const found: { state: EndpointState; message: string }[] = [];
  const add = (state: EndpointState, message: string) => found.push({ state, message });
  const files: EndpointStatus['files'] = { cert: { path: endpoint.files.cert } };
  const result: EndpointStatus = { host: host.name, endpoint: endpoint.name, states: [], messages: [], files, checkedAt: now.toISOString() };
  if (remote instanceof Error) {
    add('unreachable', `${host.name} is unreachable: ${remote.message}`);
    return finish(result, found);
  }
  const warningDays = endpoint.expiry?.warningDays ?? DEFAULT_SETTINGS.expiry.warningDays;
  const trust = opts.trust ?? resolveTrustStore();

  // The files and the probe are independent: run them together over the one connection.
  const [certFile, keyFile, caFile, probe] = await Promise.all([
    readRemote(remote, endpoint.files.cert),
    endpoint.files.key ? readRemote(remote, endpoint.files.key) : undefined,
    endpoint.files.ca ? readRemote(remote, endpoint.files.ca) : undefined,
    probeEndpoint(remote, endpoint, opts.probeTimeoutMs ?? 10_000).then(
      (r) => ({ ok: r }),
      (e: unknown) => ({ error: e instanceof Error ? e.message : String(e) }),
    ),
  ]);

  files.cert = certFile.facts;
  const diskAnalysis = certFile.text !== undefined ? analyzeDocument(certFile.text) : undefined;
  const diskLeaf = diskAnalysis ? leafOf(diskAnalysis) : undefined;
  if (certFile.facts.error) add('error', `certificate file ${endpoint.files.cert}: ${certFile.facts.error}`);
  else if (!diskLeaf) add('error', `certificate file ${endpoint.files.cert} holds no certificate`);
  if (diskLeaf) files.cert.certificate = facts(diskLeaf, now);

  // Anchors for the chain check: the system store plus the endpoint's own CA file.
  const anchors = new TrustStore();
  if (caFile) {
    files.ca = caFile.facts;
    if (caFile.facts.error) add('error', `CA file ${endpoint.files.ca}: ${caFile.facts.error}`);
    const caCerts = caFile.text ? analyzeDocument(caFile.text).blocks.flatMap((b) => (b.certificate ? [b.certificate] : [])) : [];
    if (caCerts[0]) files.ca.certificate = facts(caCerts[0], now);
    for (const c of caCerts) anchors.add(c);
  }
  const isAnchored = (c: CertificateInfo) => trust.contains(c) || trust.findIssuer(c) !== undefined || anchors.contains(c) || anchors.findIssuer(c) !== undefined;

  if (keyFile) {
    files.key = keyFile.facts;
    const st = keyFile.facts.stat;
    if (st && (st.mode & 0o077) !== 0) {
      add('key-exposed', `the key ${endpoint.files.key} is readable by ${st.mode & 0o044 ? (st.mode & 0o004 ? 'everyone' : 'its group') : 'others'} (mode ${st.mode.toString(8).padStart(4, '0')}); it should be 0600`);
    }
    if (keyFile.facts.error) add('error', `key file ${endpoint.files.key}: ${keyFile.facts.error}`);
    else if (keyFile.text !== undefined && diskLeaf) {
      const key = analyzeDocument(keyFile.text).blocks.find((b) => b.privateKey)?.privateKey;
      if (!key) add('error', `key file ${endpoint.files.key} holds no private key`);
      else if (key.spkiSha256 && key.spkiSha256 !== diskLeaf.spkiSha256) add('key-mismatch', `the key ${endpoint.files.key} does not match the certificate ${endpoint.files.cert}`);
    }
  }

  let servedLeaf: CertificateInfo | undefined;
  if ('error' in probe) {
    result.probeError = probe.error;
    add('unreachable', `the probe of ${endpoint.probe.host}:${endpoint.probe.port}${endpoint.probe.via === 'ssh' ? ` (via ${host.name})` : ''} failed: ${probe.error}`);
  } else {
    const servedAnalysis = analyzeDocument(probe.ok.chain.map((c) => toPem(c.der)).join(''));
    servedLeaf = servedAnalysis.blocks[0]?.certificate;
    if (servedLeaf) {
      result.served = { ...facts(servedLeaf, now), chain: probe.ok.chain.map((c) => c.sha256) };
      if (diskLeaf && servedLeaf.sha256 !== diskLeaf.sha256) {
        add('served-differs', `the server serves ${servedLeaf.subject} (sha256 ${servedLeaf.sha256.slice(0, 16)}…), not the certificate on disk (sha256 ${diskLeaf.sha256.slice(0, 16)}…): renewed but not reloaded?`);
      }
      if (chainIncomplete(servedAnalysis, isAnchored)) add('chain-incomplete', `the served chain stops at ${topOf(servedAnalysis)?.subject ?? 'the leaf'}, whose issuer is neither served nor trusted`);
    }
  }
  if (!servedLeaf && diskAnalysis && diskLeaf && chainIncomplete(diskAnalysis, isAnchored)) {
    add('chain-incomplete', `the chain in ${endpoint.files.cert} stops at ${topOf(diskAnalysis)?.subject ?? 'the leaf'}, whose issuer is neither in the file nor trusted`);
  }

  // Expiry: the worse of the file and what is served.
  for (const [what, c] of [['on disk', diskLeaf], ['served', servedLeaf]] as const) {
    if (!c || (what === 'served' && diskLeaf && c.sha256 === diskLeaf.sha256)) continue;
    if (!c.notAfter) {
      add('error', `the certificate ${what} (${c.subject}) has no valid expiry date (notAfter does not decode)`);
      continue;
    }
    const days = daysUntil(c.notAfter, now);
    if (c.notAfter.getTime() <= now.getTime()) add('expired', `the certificate ${what} (${c.subject}) expired ${c.notAfter.toISOString()}`);
    else if (days < warningDays) add('expiring', `the certificate ${what} (${c.subject}) expires ${c.notAfter.toISOString().slice(0, 10)}, in ${days} day${days === 1 ? '' : 's'}`);
  }
  return finish(result, found);
}

function finish(result: EndpointStatus, found: { state: EndpointState; message: string }[]): EndpointStatus {
  found.sort((a, b) => STATE_ORDER.indexOf(a.state) - STATE_ORDER.indexOf(b.state));
  const states: EndpointState[] = [];
  for (const f of found) if (!states.includes(f.state)) states.push(f.state);
  result.states = states.length ? states : ['ok'];
  result.messages = found.length ? found.map((f) => f.message) : ['ok'];
  return result;
}

function leafOf(a: DocumentAnalysis): CertificateInfo | undefined {
  const first = a.chain.order?.[0] ?? a.blocks.find((b) => b.certificate)?.index;
  return first === undefined ? undefined : a.blocks[first].certificate;
}

function topOf(a: DocumentAnalysis): CertificateInfo | undefined {
  const order = a.chain.order ?? a.blocks.filter((b) => b.certificate).map((b) => b.index);
  const last = order[order.length - 1];
  return last === undefined ? undefined : a.blocks[last].certificate;
}

/** The same rule as the `chain-incomplete` diagnostic, with the endpoint's CA file counted as trusted. */
function chainIncomplete(a: DocumentAnalysis, anchored: (c: CertificateInfo) => boolean): boolean {
  const top = topOf(a);
  if (!top || top.selfIssued) return false;
  if (anchored(top)) return false;
  // Defer to the editor's diagnostic for the in-file relations (issuerOf), so both judge alike.
  return computeDiagnostics(a, DEFAULT_SETTINGS, { trust: new TrustStore() }).some((d) => d.code === 'chain-incomplete');
}

function facts(c: CertificateInfo, now: Date): CertificateFacts {
  return {
    subject: c.subject,
    issuer: c.issuer,
    serialNumber: c.serialNumber,
    sha256: c.sha256,
    spkiSha256: c.spkiSha256,
    notAfter: c.notAfter?.toISOString(),
    daysLeft: c.notAfter && daysUntil(c.notAfter, now),
    sans: c.sans.map((s) => `${s.type.toUpperCase()}:${s.value}`),
  };
}

function toPem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}

async function readRemote(remote: RemoteHost, path: string): Promise<{ facts: FileFacts; text?: string }> {
  const f: FileFacts = { path };
  try {
    f.stat = await remote.stat(path);
    if (!f.stat) return { facts: { ...f, error: 'no such file' } };
    const bytes = await remote.readFile(path, { maxBytes: MAX_CERT_FILE });
    return { facts: f, text: decodeFileBytes(bytes) };
  } catch (e) {
    return { facts: { ...f, error: e instanceof Error ? e.message.replace(`${path}: `, '') : String(e) } };
  }
}

/** Probes the endpoint as it says: directly, or from the host's side through SSH; with STARTTLS when asked. */
export async function probeEndpoint(remote: RemoteHost | undefined, endpoint: EndpointEntry, timeoutMs = 10_000): Promise<ProbeResult> {
  const p = endpoint.probe;
  const socket = p.via === 'ssh' ? await withTimeout(requireRemote(remote).forwardOut(p.host, p.port), timeoutMs, `${p.host}:${p.port}`) : undefined;
  return probeTls({ host: p.host, port: p.port, servername: p.servername, starttls: p.starttls, socket, timeoutMs });
}

function requireRemote(remote: RemoteHost | undefined): RemoteHost {
  if (!remote) throw new ProbeError('probe.via is "ssh" but there is no SSH connection', 'ENOSSH');
  return remote;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new ProbeError(`${what}: no connection within ${ms / 1000} s`, 'ETIMEDOUT')), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}

/** Options of inventoryStatus. */
export interface InventoryStatusOptions extends StatusOptions {
  /** Hosts worked on at once (default 16); endpoints of one host share its connection. */
  concurrency?: number;
  signal?: AbortSignal;
}

/** Statuses of the selected endpoints (all when no selector), in inventory order. */
export async function inventoryStatus(inv: Inventory, pool: SshPool, selectors: string[] = [], opts: InventoryStatusOptions = {}): Promise<EndpointStatus[]> {
  const pairs = selectEndpoints(inv, selectors);
  const byHost = new Map<HostEntry, EndpointEntry[]>();
  for (const { host, endpoint } of pairs) byHost.set(host, [...(byHost.get(host) ?? []), endpoint]);
  const out = new Map<EndpointEntry, EndpointStatus>();
  const trust = opts.trust ?? resolveTrustStore();
  const queue = [...byHost.entries()];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [host, endpoints] = next;
      const remote = await pool.get(host, opts.signal).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
      const statuses = await Promise.all(endpoints.map((ep) => endpointStatus(host, ep, remote, { ...opts, trust })));
      endpoints.forEach((ep, i) => out.set(ep, statuses[i]));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 16, queue.length)) }, worker));
  return pairs.map((p) => out.get(p.endpoint) as EndpointStatus);
}
