import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateCertops, hoverText, openSample, sampleFolder, waitForDiagnostics } from './helpers';

const codesOf = (d: vscode.Diagnostic[]) => d.map((x) => String(typeof x.code === 'object' ? x.code.value : x.code));

describe('the language server in a real VS Code', () => {
  before(async () => {
    await activateCertops();
  });

  it('puts an expiry error on the certificate that expires in 3 days', async () => {
    const editor = await openSample('soon.crt');
    const diags = await waitForDiagnostics(editor.document.uri, (d) => codesOf(d).includes('cert-expiring-critical'));
    const d = diags.find((x) => codesOf([x])[0] === 'cert-expiring-critical')!;
    assert.equal(d.source, 'certops');
    assert.equal(d.severity, vscode.DiagnosticSeverity.Error);
    assert.equal(d.range.start.line, 0, 'on the block, which starts on the first line');
    assert.ok(d.range.end.line >= 10, 'covering the block, not only line 1');
  });

  it('shows the outline of a chain, one symbol per certificate', async () => {
    const editor = await openSample('fullchain.pem');
    const symbols = await vscode.commands.executeCommand<vscode.DocumentSymbol[]>('vscode.executeDocumentSymbolProvider', editor.document.uri);
    assert.equal(symbols.length, 2);
    assert.match(symbols[0].name, /api\.example\.test/);
    assert.match(symbols[1].name, /Cert Ops Sample Intermediate/);
    assert.ok(symbols[1].range.start.line > symbols[0].range.end.line);
  });

  it('puts a summary line above each block of a chain', async () => {
    const editor = await openSample('fullchain.pem');
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', editor.document.uri);
    assert.equal(lenses.length, 2);
    assert.match(lenses[0].command?.title ?? '', /^leaf · CN=api\.example\.test · expires \d{4}-\d{2}-\d{2}, in (89|90) days$/);
    assert.equal(lenses[0].range.start.line, 0);
  });

  it('reorders a chain leaf-first with the quick fix', async () => {
    const { manifest } = sampleFolder();
    const editor = await openSample('wrong-order.pem');
    const uri = editor.document.uri;
    const diags = await waitForDiagnostics(uri, (d) => codesOf(d).includes('chain-order'));
    const order = diags.find((x) => codesOf([x])[0] === 'chain-order')!;
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, order.range, vscode.CodeActionKind.QuickFix.value);
    const fix = actions.find((a) => /leaf-first/i.test(a.title) && a.edit);
    assert.ok(fix, `a quick fix for chain-order among: ${actions.map((a) => a.title).join(', ')}`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit!));
    const after = await waitForDiagnostics(uri, (d) => !codesOf(d).includes('chain-order'));
    assert.ok(!codesOf(after).includes('chain-broken'));
    assert.match(await hoverText(uri, new vscode.Position(2, 2)), new RegExp(`CN=${String(manifest['api.pem'].subjectCN).replace(/\./g, '\\.')}`));
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  it('refreshes diagnostics when a setting changes, without a restart', async () => {
    const editor = await openSample('api.pem');
    const uri = editor.document.uri;
    await waitForDiagnostics(uri, (d) => !codesOf(d).some((c) => c.startsWith('cert-expiring')));
    const config = vscode.workspace.getConfiguration('certops', uri);
    await config.update('expiry.warningDays', 200, vscode.ConfigurationTarget.Global);
    try {
      await waitForDiagnostics(uri, (d) => codesOf(d).includes('cert-expiring'));
    } finally {
      await config.update('expiry.warningDays', undefined, vscode.ConfigurationTarget.Global);
    }
    await waitForDiagnostics(uri, (d) => !codesOf(d).includes('cert-expiring'));
  });
});

describe('PEM embedded in other files, in a real VS Code', () => {
  it('puts the expiry error and the hover on the tls.crt value of a Kubernetes Secret', async () => {
    const { manifest } = sampleFolder();
    const expected = manifest['tls-secret.yaml'] as { certificateLine: number; subjectCN: string };
    const editor = await openSample('tls-secret.yaml');
    assert.equal(editor.document.languageId, 'yaml');
    const diags = await waitForDiagnostics(editor.document.uri, (d) => codesOf(d).includes('cert-expiring-critical'));
    const d = diags.find((x) => codesOf([x])[0] === 'cert-expiring-critical')!;
    assert.equal(d.range.start.line, expected.certificateLine);
    const text = await hoverText(editor.document.uri, new vscode.Position(expected.certificateLine, 20));
    assert.match(text, new RegExp(`CN=${expected.subjectCN.replace(/\./g, '\\.')}`));
  });
});
