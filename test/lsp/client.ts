/**
 * A minimal LSP client for tests: spawns `node dist/server.js --stdio`,
 * answers workspace/configuration from a settings object, and lets tests wait
 * for the diagnostics of a given document version instead of sleeping.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import {
  createProtocolConnection,
  Diagnostic,
  ProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  PublishDiagnosticsParams,
  Position,
  Range,
  Hover,
  DocumentSymbol,
  FoldingRange,
  CodeLens,
  CodeAction,
  DocumentLink,
} from 'vscode-languageserver-protocol/node';
import { Issued, Pki } from '../fixtures/pki';

/** dist/server.js, found from out/test/lsp (compiled tests) or test/lsp (sources). */
export const SERVER_PATH = resolve(__dirname, '..', '..', '..', 'dist', 'server.js');

/** A running server with one client connection. */
export class LspClient {
  /** The `certops` section returned for workspace/configuration; change it with setSettings. */
  settings: Record<string, unknown> = {};
  /** Every workspace/configuration item the server asked for. */
  readonly configurationRequests: { scopeUri?: string; section?: string }[] = [];
  private readonly latest = new Map<string, PublishDiagnosticsParams>();
  private waiters: { uri: string; test: (p: PublishDiagnosticsParams) => boolean; resolve: (p: PublishDiagnosticsParams) => void }[] = [];
  private versions = new Map<string, number>();
  stderr = '';

  private constructor(
    readonly process: ChildProcess,
    readonly connection: ProtocolConnection,
  ) {}

  /** Starts the server (with `env` as its environment, default this process's) and completes the initialize handshake. */
  static async start(settings: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = process.env): Promise<LspClient> {
    const child = spawn(process.execPath, [SERVER_PATH, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'], env });
    const connection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    const client = new LspClient(child, connection);
    client.settings = settings;
    child.stderr!.on('data', (d) => (client.stderr += d.toString()));
    connection.onRequest('workspace/configuration', (params: { items: { scopeUri?: string; section?: string }[] }) => {
      client.configurationRequests.push(...params.items);
      return params.items.map(() => client.settings);
    });
    connection.onRequest('client/registerCapability', () => null);
    connection.onRequest('workspace/codeLens/refresh', () => null);
    connection.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      client.latest.set(p.uri, p);
      client.waiters = client.waiters.filter((w) => {
        if (w.uri !== p.uri || !w.test(p)) return true;
        w.resolve(p);
        return false;
      });
    });
    connection.listen();
    await connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: {
        workspace: { configuration: true, didChangeConfiguration: { dynamicRegistration: true }, didChangeWatchedFiles: { dynamicRegistration: true }, codeLens: { refreshSupport: true } },
        textDocument: { publishDiagnostics: { versionSupport: true }, hover: { contentFormat: ['markdown'] } },
      },
    });
    await connection.sendNotification('initialized', {});
    return client;
  }

  /** Opens a document and returns its diagnostics for that version. */
  async open(uri: string, text: string, languageId = 'pem'): Promise<Diagnostic[]> {
    this.versions.set(uri, 1);
    const wait = this.waitFor(uri, (p) => p.version === 1 || p.version === undefined);
    await this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
    return (await wait).diagnostics;
  }

  /** Replaces the whole text and returns the diagnostics of the new version. */
  async change(uri: string, text: string): Promise<Diagnostic[]> {
    const version = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, version);
    const wait = this.waitFor(uri, (p) => p.version === version);
    await this.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text }] });
    return (await wait).diagnostics;
  }

  /** Applies an incremental edit and returns the diagnostics of the new version. */
  async edit(uri: string, range: Range, text: string): Promise<Diagnostic[]> {
    const version = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, version);
    const wait = this.waitFor(uri, (p) => p.version === version);
    await this.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ range, text }] });
    return (await wait).diagnostics;
  }

  /** Closes a document. */
  async close(uri: string): Promise<void> {
    await this.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  /** Resolves with the next diagnostics for `uri` that pass `test` (default: any), or rejects after `ms`. */
  waitFor(uri: string, test: (p: PublishDiagnosticsParams) => boolean = () => true, ms = 10_000): Promise<PublishDiagnosticsParams> {
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`no diagnostics for ${uri} within ${ms} ms; server stderr: ${this.stderr}`)), ms);
      this.waiters.push({ uri, test, resolve: (p) => (clearTimeout(timer), resolvePromise(p)) });
    });
  }

  /** The most recent diagnostics published for `uri`. */
  diagnostics(uri: string): Diagnostic[] {
    return this.latest.get(uri)?.diagnostics ?? [];
  }

  /** Changes the settings and notifies the server like VS Code does (the server pulls them again). */
  async setSettings(settings: Record<string, unknown>): Promise<void> {
    this.settings = settings;
    await this.connection.sendNotification('workspace/didChangeConfiguration', { settings: null });
  }

  /** Tells the server files changed on disk. */
  async filesChanged(uris: string[]): Promise<void> {
    await this.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: uris.map((uri) => ({ uri, type: 2 })) });
  }

  hover(uri: string, position: Position): Promise<Hover | null> {
    return this.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position });
  }

  symbols(uri: string): Promise<DocumentSymbol[]> {
    return this.connection.sendRequest('textDocument/documentSymbol', { textDocument: { uri } });
  }

  folding(uri: string): Promise<FoldingRange[]> {
    return this.connection.sendRequest('textDocument/foldingRange', { textDocument: { uri } });
  }

  codeLenses(uri: string): Promise<CodeLens[]> {
    return this.connection.sendRequest('textDocument/codeLens', { textDocument: { uri } });
  }

  codeActions(uri: string, diagnostics: Diagnostic[]): Promise<CodeAction[]> {
    const range = diagnostics[0]?.range ?? { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    return this.connection.sendRequest('textDocument/codeAction', { textDocument: { uri }, range, context: { diagnostics } });
  }

  links(uri: string): Promise<DocumentLink[]> {
    return this.connection.sendRequest('textDocument/documentLink', { textDocument: { uri } });
  }

  /** Shuts the server down and waits for the process to exit. */
  async stop(): Promise<void> {
    const exited = new Promise((r) => this.process.once('exit', r));
    try {
      await this.connection.sendRequest('shutdown');
      await this.connection.sendNotification('exit');
    } catch {
      this.process.kill();
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    if (this.process.exitCode === null) this.process.kill();
    this.connection.dispose();
  }
}

/** Applies the text edits of a code action for `uri` to `text`. */
export function applyEdits(text: string, action: CodeAction, uri: string): string {
  const edits = [...(action.edit?.changes?.[uri] ?? [])];
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const offset = (p: Position) => Math.min(text.length, (lineStarts[p.line] ?? text.length) + p.character);
  edits.sort((a, b) => offset(b.range.start) - offset(a.range.start));
  for (const e of edits) text = text.slice(0, offset(e.range.start)) + e.newText + text.slice(offset(e.range.end));
  return text;
}

/** The codes of a list of diagnostics, sorted, for compact assertions. */
export function codes(diagnostics: Diagnostic[]): string[] {
  return diagnostics.map((d) => String(d.code)).sort();
}

/** A diagnostic's message as plain text (LSP 3.18 also allows markup). */
export function msg(d: Diagnostic): string {
  return typeof d.message === 'string' ? d.message : d.message.value;
}

/** A generated chain and a server that trusts its root, as the LSP suites start; `stop` ends both. */
export interface ChainServer {
  pki: Pki;
  lsp: LspClient;
  root: Issued;
  intermediate: Issued;
  leaf: Issued;
  stop(): Promise<void>;
}

/** Generates `pki.chain(prefix)` and starts a server with the generated root standing in for a system root. */
export async function startChainServer(prefix: string): Promise<ChainServer> {
  const pki = new Pki();
  const chain = pki.chain(prefix);
  const lsp = await LspClient.start({ trust: { extraCAFiles: [chain.root.certPath] } });
  return {
    pki, lsp, ...chain,
    stop: async () => {
      await lsp.stop();
      pki.dispose();
    },
  };
}
