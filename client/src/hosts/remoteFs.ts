// `certops-remote:/HOST/abs/path`: files of inventory hosts, read over the pooled
// SSH connection and shown read-only, so the language server decodes them like
// local files. It also answers the server's certops/readSibling for key pairing.
import * as vscode from 'vscode';
import { ReadSiblingParams, ReadSiblingResult, REMOTE_SCHEME } from '../../../server/src/protocol';
import type { HostsSession } from './session';

/** The URI of `path` on inventory host `host`. The host is the first path segment: URI authorities are lower-cased. */
export function remoteUri(host: string, path: string): vscode.Uri {
  return vscode.Uri.from({ scheme: REMOTE_SCHEME, path: `/${host}${path.startsWith('/') ? '' : '/'}${path}` });
}

/** The host and absolute path a `certops-remote:` URI names. */
export function parseRemoteUri(uri: vscode.Uri): { host: string; path: string } {
  const m = /^\/([^/]+)(\/.*)$/.exec(uri.path);
  if (uri.scheme !== REMOTE_SCHEME || !m) throw vscode.FileSystemError.FileNotFound(uri);
  return { host: m[1], path: m[2] };
}

/** A read-only file system over the inventory's hosts. */
export class RemoteFileSystem implements vscode.FileSystemProvider {
  private readonly emitter = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.emitter.event;

  constructor(
    private readonly session: HostsSession,
    private readonly onError: (message: string) => void,
  ) {}

  /** After a check of these hosts: open documents of theirs may be stale (a renewed file), so VS Code re-reads them. */
  hostsChecked(hosts: Set<string>): void {
    const stale = vscode.workspace.textDocuments
      .map((d) => d.uri)
      .filter((u) => u.scheme === REMOTE_SCHEME && hosts.has(/^\/([^/]+)\//.exec(u.path)?.[1] ?? ''));
    if (stale.length) this.emitter.fire(stale.map((uri) => ({ type: vscode.FileChangeType.Changed, uri })));
  }

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => {});
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const { host, path } = parseRemoteUri(uri);
    const st = await this.remote(host, uri, (r) => r.stat(path));
    if (!st) throw vscode.FileSystemError.FileNotFound(uri);
    return {
      type: st.isDirectory ? vscode.FileType.Directory : st.isFile ? vscode.FileType.File : vscode.FileType.Unknown,
      ctime: st.mtimeMs,
      mtime: st.mtimeMs,
      size: st.size,
      permissions: vscode.FilePermission.Readonly,
    };
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const { host, path } = parseRemoteUri(uri);
    return this.remote(host, uri, (r) => r.readFile(path, { maxBytes: this.session.settings.maxFileBytes }));
  }

  /** certops/readSibling: the bytes of a sibling file, or null when it cannot be read. */
  async readSibling(params: ReadSiblingParams): Promise<ReadSiblingResult> {
    try {
      const uri = vscode.Uri.parse(params.uri, true);
      if (uri.scheme !== REMOTE_SCHEME) return null;
      const { host, path } = parseRemoteUri(uri);
      const remote = await this.session.remote(host);
      const st = await remote.stat(path);
      if (!st?.isFile || st.size > params.maxBytes) return null;
      return { data: Buffer.from(await remote.readFile(path, { maxBytes: params.maxBytes })).toString('base64') };
    } catch {
      return null;
    }
  }

  private async remote<T>(host: string, uri: vscode.Uri, f: (r: Awaited<ReturnType<HostsSession['remote']>>) => Promise<T>): Promise<T> {
    try {
      return await f(await this.session.remote(host));
    } catch (e) {
      if (e instanceof vscode.FileSystemError) throw e;
      const message = e instanceof Error ? e.message : String(e);
      this.onError(`${host}: ${message}`);
      throw vscode.FileSystemError.Unavailable(`${uri.path}: ${message}`);
    }
  }

  readDirectory(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(`${uri.path}: Cert Ops opens files from the hosts tree; it does not list remote directories`);
  }

  createDirectory(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  writeFile(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  delete(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  rename(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }
}
