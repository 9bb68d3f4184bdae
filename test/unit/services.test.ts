import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyzeDocument } from '../../server/src/analysis';
import { computeDiagnostics } from '../../server/src/services/diagnostics';
import { DEFAULT_SETTINGS, resolveSettings } from '../../server/src/services/settings';
import { documentSymbols, foldingRanges } from '../../server/src/services/symbols';
import { hoverAt } from '../../server/src/services/hover';
import { codeLenses } from '../../server/src/services/codelens';
import { codeActions } from '../../server/src/services/codeactions';
import { TrustStore } from '../../server/src/analysis/truststore';

const bundle = readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8');
const firstTwo = bundle.slice(0, bundle.indexOf('-----END CERTIFICATE-----', bundle.indexOf('-----END CERTIFICATE-----') + 1) + 26);

describe('settings', () => {
  it('fills defaults and ignores ill-typed values', () => {
    assert.deepEqual(resolveSettings(undefined), DEFAULT_SETTINGS);
    const s = resolveSettings({ expiry: { warningDays: 'x', criticalDays: 3 }, trust: { extraCAFiles: ['/a', 4] }, codeLens: { enabled: false } });
    assert.equal(s.expiry.warningDays, 30);
    assert.equal(s.expiry.criticalDays, 3);
    assert.deepEqual(s.trust.extraCAFiles, ['/a']);
    assert.equal(s.codeLens.enabled, false);
  });
});

describe('services on two system roots', () => {
  const a = analyzeDocument(firstTwo);
  it('no diagnostics for a bundle of valid roots, duplicate-certificate when repeated', () => {
    const now = new Date(Math.min(...a.blocks.map((b) => b.certificate!.notAfter!.getTime())) - 400 * 86_400_000);
    assert.deepEqual(computeDiagnostics(a, DEFAULT_SETTINGS, { now, trust: new TrustStore() }), []);
    const dup = analyzeDocument(firstTwo + '\n' + firstTwo);
    const codes = computeDiagnostics(dup, DEFAULT_SETTINGS, { now }).map((d) => d.code);
    assert.deepEqual(codes, ['duplicate-certificate', 'duplicate-certificate']);
  });
  it('cert-expired with the clock moved past notAfter, and a quick fix that removes it', () => {
    const c = a.blocks[0].certificate!;
    const d = computeDiagnostics(a, DEFAULT_SETTINGS, { now: new Date(c.notAfter!.getTime() + 86_400_000) });
    const expired = d.filter((x) => x.code === 'cert-expired' && (x.data as { block: number }).block === 0);
    assert.equal(expired.length, 1);
    const [fix] = codeActions(a, firstTwo, 'file:///b.pem', expired);
    assert.equal(fix.edit?.changes?.['file:///b.pem'][0].range.start.line, 0);
  });
  it('outline, folding, hover and CodeLens name each block', () => {
    assert.equal(documentSymbols(a).length, 2);
    assert.deepEqual(foldingRanges(a).map((f) => f.startLine), [a.blocks[0].range.start.line, a.blocks[1].range.start.line]);
    const h = hoverAt(a, { line: 1, character: 0 });
    assert.match((h!.contents as { value: string }).value, /Root certificate/);
    assert.equal(hoverAt(a, { line: a.blocks[0].range.end.line + 1000, character: 0 }), null);
    assert.match(codeLenses(a)[0].command!.title, /^root · /);
  });
});
