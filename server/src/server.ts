// Wiring only: the features are pure modules under analysis/ and services/
// that take an analysed document and return LSP shapes. This file owns the
// caches, settings, sibling files and the trust store.
import {
  CodeActionKind,
  CodeLensRefreshRequest,
  createConnection,
  DidChangeConfigurationNotification,
  DidChangeWatchedFilesNotification,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { analyzeDocument, decodeFileBytes, DocumentAnalysis } from './analysis';
import { siblingNames } from './analysis/siblings';
import { chainSettled, settleChain, settleIssuers } from './analysis/chain';
import type { SiblingDocument } from './analysis/match';
import { resolveTrustStore } from './analysis/truststore';
import { analyzeTextSteps, keyFileMode, SIBLING_MAX_BYTES, type SiblingCache, siblingDocuments } from './services/analyze';
import { CertopsSettings, DEFAULT_SETTINGS, resolveSettings, trustStoreFor } from './services/settings';
import { computeDiagnostics } from './services/diagnostics';
import { hoverAt } from './services/hover';
import { documentSymbols, foldingRanges } from './services/symbols';
import { codeLenses } from './services/codelens';
import { codeActions } from './services/codeactions';
import { editableDiagnostics, EMBEDDED_LANGUAGES } from './embedded';
import { documentLinks } from './services/links';
import type { ServiceContext } from './services/context';
import { isRemoteUri, ReadSiblingParams, ReadSiblingRequest, ReadSiblingResult } from './protocol';
import { VERSION } from './version';

// Decoding and signature checks run in slices of this many milliseconds, one per event-loop turn, so requests are answered in between.
const SLICE_MS = 10;

// createConnection picks IPC, stdio (--stdio) or a socket from the command line.
const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);

let canPullConfiguration = false;
let canWatchFiles = false;
let canRefreshCodeLens = false;
let pushedSettings: unknown;

const settingsCache = new Map<string, Promise<CertopsSettings>>();
// Per document: its analysis, or the steps of one under way (see analysisInSlices).
const analyses = new Map<string, { version: number; maxBytes: number; embedded: boolean; steps: Generator<void, DocumentAnalysis, void>; analysis?: DocumentAnalysis }>();
const diskSiblings: SiblingCache = new Map();
// Siblings of remote documents, read through the client once per opening (each read is an SSH round trip).
const remoteSiblings = new Map<string, Promise<DocumentAnalysis | undefined>>();
// Documents waiting for analysis, and those whose validation is in flight.
const pending = new Set<string>();
const running = new Set<string>();
// Bumped by every request for analysis, so a burst of queued changes is seen as one.
let scheduleSeq = 0;
let settling: NodeJS.Immediate | undefined;
// Analyses whose published diagnostics say the signature check budget ran out.
const limitReported = new WeakSet<DocumentAnalysis>();

connection.onInitialize(({ capabilities }) => {
  canPullConfiguration = capabilities.workspace?.configuration === true;
  canWatchFiles = capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
  canRefreshCodeLens = capabilities.workspace?.codeLens?.refreshSupport === true;
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      hoverProvider: true,
      documentSymbolProvider: true,
      foldingRangeProvider: true,
      codeLensProvider: { resolveProvider: false },
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
      documentLinkProvider: { resolveProvider: false },
    },
    serverInfo: { name: 'certops', version: VERSION },
  };
});

connection.onInitialized(() => {
  if (canPullConfiguration) void connection.client.register(DidChangeConfigurationNotification.type, { section: 'certops' });
  if (canWatchFiles) {
    void connection.client.register(DidChangeWatchedFilesNotification.type, {
      watchers: [{ globPattern: '**/*.{pem,crt,cer,key}' }],
    });
  }
  // The system roots are read once and kept; reading them now, while the editor
  // is still starting, spares the first document's diagnostics the wait.
  setImmediate(() => resolveTrustStore());
});

function settingsFor(uri: string): Promise<CertopsSettings> {
  if (!canPullConfiguration) return Promise.resolve(resolveSettings((pushedSettings as { certops?: unknown } | undefined)?.certops ?? DEFAULT_SETTINGS));
  let s = settingsCache.get(uri);
  if (!s) {
    s = connection.workspace.getConfiguration({ scopeUri: uri, section: 'certops' }).then(resolveSettings, () => DEFAULT_SETTINGS);
    settingsCache.set(uri, s);
  }
  return s;
}

/** The analysis of `doc` for `settings`, finished now if it is under way. */
function analysisOf(doc: TextDocument, settings: CertopsSettings): DocumentAnalysis {
  return analyse(doc, settings, Infinity) as DocumentAnalysis;
}

/** Advances the analysis of `doc` until `deadline` (a performance.now() time); the analysis once complete. */
function analyse(doc: TextDocument, settings: CertopsSettings, deadline: number): DocumentAnalysis | undefined {
  const maxBytes = Math.round(settings.limits.maxFileSizeMB * 1048576);
  const embedded = settings.embedded.enabled;
  let entry = analyses.get(doc.uri);
  if (!entry || entry.version !== doc.version || entry.maxBytes !== maxBytes || entry.embedded !== embedded) {
    entry = { version: doc.version, maxBytes, embedded, steps: analyzeTextSteps(doc.getText(), doc.languageId, settings) };
    analyses.set(doc.uri, entry);
  }
  while (!entry.analysis) {
    const step = entry.steps.next();
    if (step.done) entry.analysis = step.value;
    else if (performance.now() >= deadline) break;
  }
  return entry.analysis;
}

function filePath(uri: string): string | undefined {
  try {
    return uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
  } catch {
    return undefined;
  }
}

/** Where a document lives, for pairing by sibling name: this machine's disk, or an inventory host. */
interface Location {
  dir: string;
  base: string;
  /** Set for local files only. */
  path?: string;
  siblingUri(name: string): string;
}

function locate(uri: string): Location | undefined {
  const path = filePath(uri);
  if (path) return { dir: dirname(path), base: basename(path), path, siblingUri: (n) => pathToFileURL(join(dirname(path), n)).toString() };
  if (!isRemoteUri(uri) || /[?#]/.test(uri)) return undefined;
  const slash = uri.lastIndexOf('/');
  let base: string;
  try {
    base = decodeURIComponent(uri.slice(slash + 1));
  } catch {
    return undefined;
  }
  const dir = uri.slice(0, slash + 1);
  return { dir, base, siblingUri: (n) => dir + encodeURIComponent(n) };
}

function remoteSibling(uri: string): Promise<DocumentAnalysis | undefined> {
  let entry = remoteSiblings.get(uri);
  if (!entry) {
    const params: ReadSiblingParams = { uri, maxBytes: SIBLING_MAX_BYTES };
    entry = connection.sendRequest<ReadSiblingResult>(ReadSiblingRequest.method, params).then(
      (r) => (r && typeof r.data === 'string' ? analyzeDocument(decodeFileBytes(Buffer.from(r.data, 'base64').subarray(0, SIBLING_MAX_BYTES))) : undefined),
      () => undefined,
    );
    remoteSiblings.set(uri, entry);
  }
  return entry;
}

/** Forgets the remote siblings read for documents of `uri`'s directory, so the next opening reads them afresh. */
function forgetRemoteSiblings(uri: string): void {
  const loc = isRemoteUri(uri) ? locate(uri) : undefined;
  if (!loc) return;
  for (const k of remoteSiblings.keys()) if (k.startsWith(loc.dir) && !k.slice(loc.dir.length).includes('/')) remoteSiblings.delete(k);
}

/** Open documents win over the disk; disk reads are cached by size and mtime (the CLI pairs through the same function); remote ones are asked of the client. */
async function siblingsOf(uri: string, settings: CertopsSettings): Promise<SiblingDocument[]> {
  const open = (u: string) => {
    const d = documents.get(u);
    return d && analysisOf(d, settings);
  };
  const loc = locate(uri);
  if (loc?.path) return siblingDocuments(loc.path, { open, cache: diskSiblings });
  const names = loc ? siblingNames(loc.base) : undefined;
  if (!loc || !names) return [];
  const out: SiblingDocument[] = [];
  for (const name of names.candidates) {
    const sibUri = loc.siblingUri(name);
    const analysis = open(sibUri) ?? (await remoteSibling(sibUri));
    if (analysis) out.push({ name, uri: sibUri, analysis });
  }
  return out;
}

async function contextFor(doc: TextDocument, settings: CertopsSettings, analysis?: DocumentAnalysis): Promise<ServiceContext> {
  const path = filePath(doc.uri);
  return {
    uri: doc.uri,
    siblings: await siblingsOf(doc.uri, settings),
    trust: trustStoreFor(settings),
    fileMode: path && analysis ? keyFileMode(path, analysis) : undefined,
  };
}

/**
 * The analysis of a document's current version, its decoding and chain
 * signature checks spread over turns of the event loop; undefined when the
 * document changed meanwhile.
 */
async function analysisInSlices(doc: TextDocument, settings: CertopsSettings): Promise<DocumentAnalysis | undefined> {
  const version = doc.version;
  const current = () => documents.get(doc.uri) === doc && doc.version === version;
  let analysis: DocumentAnalysis | undefined;
  while (!(analysis = analyse(doc, settings, performance.now() + SLICE_MS))) {
    await new Promise((r) => setImmediate(r));
    if (!current()) return undefined;
  }
  // Certificates that name each other are told apart by their signatures (hundreds of checks in a hostile file):
  // they start a turn after the decoding and go on in slices, so requests queued meanwhile are answered in between.
  while (!chainSettled(analysis.chain)) {
    await new Promise((r) => setImmediate(r));
    if (!current()) return undefined;
    settleChain(analysis.chain, SLICE_MS);
  }
  return analysis;
}

async function validate(doc: TextDocument): Promise<void> {
  const settings = await settingsFor(doc.uri);
  if (documents.get(doc.uri) !== doc) return;
  const analysis = await analysisInSlices(doc, settings);
  // A newer version is scheduled already.
  if (!analysis) return;
  const diagnostics = computeDiagnostics(analysis, settings, await contextFor(doc, settings, analysis));
  if (analysis.chain.limited) limitReported.add(analysis);
  void connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics });
}

/**
 * Analyses as soon as the editor stops sending changes, with no fixed wait.
 * vscode-jsonrpc handles one queued message per event-loop turn, so a burst
 * of changes (typing, or messages that piled up during a long analysis) is
 * spread over several turns: the analysis starts only after a whole turn
 * passed without a new request, and then sees the latest version only.
 */
function schedule(doc: TextDocument): void {
  pending.add(doc.uri);
  scheduleSeq++;
  if (!settling) settling = setImmediate(settle, -1);
}

function settle(seenSeq: number): void {
  settling = undefined;
  if (seenSeq !== scheduleSeq) {
    settling = setImmediate(settle, scheduleSeq);
    return;
  }
  // One document per turn, so requests (hovers) interleave with a workspace-wide refresh.
  const uri = [...pending].find((u) => !running.has(u));
  if (uri === undefined) return;
  pending.delete(uri);
  const doc = documents.get(uri);
  if (doc) {
    running.add(uri);
    validate(doc)
      .catch((e) => connection.console.error(`certops: validation failed: ${(e as Error).message}`))
      .finally(() => {
        running.delete(uri);
        // Changes that arrived while this one was in flight.
        if (pending.size > 0 && !settling) settling = setImmediate(settle, scheduleSeq);
      });
  }
  if ([...pending].some((u) => !running.has(u)) && !settling) settling = setImmediate(settle, scheduleSeq);
}

/** Re-checks open documents that pair with `uri` (its siblings by name). */
function revalidateDependents(uri: string): void {
  const loc = locate(uri);
  if (!loc) return;
  for (const other of documents.all()) {
    if (other.uri === uri) continue;
    const o = locate(other.uri);
    if (o && o.dir === loc.dir && siblingNames(o.base)?.candidates.includes(loc.base)) schedule(other);
  }
}

function refreshAll(): void {
  settingsCache.clear();
  remoteSiblings.clear();
  for (const doc of documents.all()) schedule(doc);
  if (canRefreshCodeLens) void connection.sendRequest(CodeLensRefreshRequest.type);
}

// TextDocuments also fires onDidChangeContent on open, which schedules the analysis.
documents.onDidOpen(({ document }) => revalidateDependents(document.uri));
documents.onDidChangeContent(({ document }) => {
  // A remote document changes only when it is opened or re-read from its host: its siblings may have changed too.
  forgetRemoteSiblings(document.uri);
  schedule(document);
  revalidateDependents(document.uri);
});
documents.onDidSave(({ document }) => revalidateDependents(document.uri));
documents.onDidClose(({ document }) => {
  pending.delete(document.uri);
  analyses.delete(document.uri);
  settingsCache.delete(document.uri);
  void connection.sendDiagnostics({ uri: document.uri, diagnostics: [] });
  revalidateDependents(document.uri);
});

connection.onDidChangeConfiguration(({ settings }) => {
  pushedSettings = settings;
  refreshAll();
});

connection.onDidChangeWatchedFiles(({ changes }) => {
  for (const c of changes) {
    const path = filePath(c.uri);
    if (path) diskSiblings.delete(path);
    revalidateDependents(c.uri);
  }
});

async function withAnalysis<T>(uri: string, f: (doc: TextDocument, a: DocumentAnalysis, s: CertopsSettings) => T | Promise<T>, fallback: T): Promise<T> {
  const doc = documents.get(uri);
  if (!doc) return fallback;
  const settings = await settingsFor(uri);
  // Requests on a document still being analysed wait for it without holding up the others; on a newer version, at once.
  return f(doc, (await analysisInSlices(doc, settings)) ?? analysisOf(doc, settings), settings);
}

connection.onHover(({ textDocument, position }) =>
  withAnalysis(textDocument.uri, async (doc, a, s) => hoverAt(a, position, { siblings: await siblingsOf(doc.uri, s), uri: doc.uri, trust: trustStoreFor(s) }), null),
);
connection.onDocumentSymbol(({ textDocument }) => withAnalysis(textDocument.uri, (_d, a) => documentSymbols(a), []));
connection.onFoldingRanges(({ textDocument }) => withAnalysis(textDocument.uri, (_d, a) => foldingRanges(a), []));
connection.onCodeLens(({ textDocument }) =>
  withAnalysis(textDocument.uri, async (doc, a, s) => (s.codeLens.enabled ? codeLenses(a, { siblings: await siblingsOf(doc.uri, s) }) : []), []),
);
connection.onCodeAction(({ textDocument, context }) =>
  withAnalysis(textDocument.uri, (doc, a) => {
    // Line edits inside a quoted or encoded value would break the file around it.
    const fixable = EMBEDDED_LANGUAGES.includes(doc.languageId) ? editableDiagnostics(a, doc.getText(), context.diagnostics) : context.diagnostics;
    return codeActions(a, doc.getText(), doc.uri, fixable);
  }, []),
);
connection.onDocumentLinks(({ textDocument }) =>
  withAnalysis(
    textDocument.uri,
    async (doc, a) => {
      // Links need every issuer signature of a bundle checked; a slice per turn keeps diagnostics and hovers flowing meanwhile.
      while (!settleIssuers(a.chain, SLICE_MS)) await new Promise((r) => setImmediate(r));
      // The diagnostics of a bundle were published before its issuers were read: tell when the budget ran out since.
      if (a.chain.limited && !limitReported.has(a)) schedule(doc);
      return documentLinks(a, doc.uri);
    },
    [],
  ),
);

documents.listen(connection);
connection.listen();
