// Wiring only: start the language server, register what the features need, stop on deactivate.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions, TransportKind } from 'vscode-languageclient/node';
import { REMOTE_SCHEME } from '../../server/src/protocol';
import { HostsApi, registerHosts } from './hosts';

let client: LanguageClient | undefined;

/** The extension's API, returned from activate so tests and other extensions can reach the client. */
export interface CertopsApi {
  /** The running language client, or undefined when the server failed to start. */
  readonly client: LanguageClient | undefined;
  /** The remote-hosts features (inventory session and tree). */
  readonly hosts: HostsApi;
}

export async function activate(context: vscode.ExtensionContext): Promise<CertopsApi> {
  const log = vscode.window.createOutputChannel('Cert Ops', { log: true });
  context.subscriptions.push(log);

  const serverModule = context.asAbsolutePath(path.join('dist', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.ipc },
    debug: { module: serverModule, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: 'pem' }, ...['yaml', 'json', 'jsonc', 'dotenv', 'plaintext'].flatMap((language) => ['file', 'untitled', REMOTE_SCHEME].map((scheme) => ({ scheme, language })))],
    outputChannel: log,
    synchronize: { configurationSection: 'certops' },
  };
  client = new LanguageClient('certops', 'Cert Ops', serverOptions, clientOptions);
  try {
    await client.start();
    log.info('certops language server started');
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    log.error(`the certops language server failed to start: ${message}`);
    client = undefined;
    void vscode.window.showErrorMessage(`Cert Ops: the language server failed to start: ${message}`, 'Show Log').then((choice) => {
      if (choice) log.show();
    });
  }
  const hosts = registerHosts(context, client, log);
  return {
    get client() {
      return client;
    },
    hosts,
  };
}

export function deactivate(): Thenable<void> | undefined {
  return client?.stop();
}
