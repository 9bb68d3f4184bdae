import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateCertops, hoverText, openSample, sampleFolder } from './helpers';

describe('certops in a real VS Code', () => {
  before(async () => {
    const api = await activateCertops();
    assert.ok(api.client, 'the language server started');
  });

  it('gives .pem files the pem language', async () => {
    const editor = await openSample('api.pem');
    assert.equal(editor.document.languageId, 'pem');
  });

  it('hovering a certificate shows its subject and expiry', async () => {
    const { manifest } = sampleFolder();
    const editor = await openSample('api.pem');
    const text = await hoverText(editor.document.uri, new vscode.Position(3, 5));
    assert.match(text, new RegExp(`CN=${String(manifest['api.pem'].subjectCN).replace(/\./g, '\\.')}`));
    assert.match(text, /Validity/);
    assert.match(text, /expires in (89|90) days/);
  });

  it('shows no hover outside every block', async () => {
    const editor = await openSample('api.pem');
    const last = editor.document.lineCount;
    const text = await hoverText(editor.document.uri, new vscode.Position(last + 5, 0));
    assert.equal(text, '');
  });
});
