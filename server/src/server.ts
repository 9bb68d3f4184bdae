// Wiring only: the features are pure modules under services/ that take text and return LSP shapes.
import {
  createConnection,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { hoverAt } from './services/hover';
import { VERSION } from './version';

// createConnection picks IPC, stdio (--stdio) or a socket from the command line.
const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);

connection.onInitialize(() => ({
  capabilities: {
    textDocumentSync: TextDocumentSyncKind.Incremental,
    hoverProvider: true,
  },
  serverInfo: { name: 'certops', version: VERSION },
}));

connection.onHover(({ textDocument, position }) => {
  const doc = documents.get(textDocument.uri);
  return doc ? hoverAt(doc.getText(), position) : null;
});

documents.onDidChangeContent(({ document }) => {
  void connection.sendDiagnostics({ uri: document.uri, version: document.version, diagnostics: [] });
});

documents.onDidClose(({ document }) => {
  void connection.sendDiagnostics({ uri: document.uri, diagnostics: [] });
});

documents.listen(connection);
connection.listen();
