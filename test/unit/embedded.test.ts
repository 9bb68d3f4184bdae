// The embedded-PEM module on its own: each form it reads, and where the blocks it finds land in the document.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { analyzeDocument, AnalyzedBlock } from '../../server/src/analysis';
import { editableDiagnostics, embeddedRegions, EmbeddedRegion, standsOnOwnLines } from '../../server/src/embedded';
import { decodeQuoted, nestsDeeperThan } from '../../server/src/embedded/yaml';
import { decodeJsonString } from '../../server/src/embedded/json';
import { LineIndex } from '../../server/src/embedded/text';
import { Issued, Pki } from '../fixtures/pki';

let pki: Pki;
let leaf: Issued;
let int: Issued;

before(() => {
  pki = new Pki();
  ({ intermediate: int, leaf } = pki.chain('emb'));
});
after(() => pki.dispose());

const b64 = (s: string) => Buffer.from(s).toString('base64');
const indent = (pem: string, n: number) => pem.trimEnd().split('\n').map((l) => ' '.repeat(n) + l).join('\n');

function analyse(text: string, languageId: string): { regions: EmbeddedRegion[]; blocks: AnalyzedBlock[] } {
  const regions = embeddedRegions(text, languageId);
  return { regions, blocks: analyzeDocument(text, { regions }).blocks };
}

/** The document line a 0-based line number points at. */
const lineOf = (text: string, line: number) => text.split(/\r\n|\r|\n/)[line];

describe('embedded: forms', () => {
  it('a Kubernetes Secret: base64 tls.crt (a chain), tls.key, and ca.crt', () => {
    const text = [
      'apiVersion: v1',
      'kind: Secret',
      'type: kubernetes.io/tls',
      'metadata:',
      '  name: web-tls',
      'data:',
      `  tls.crt: ${b64(leaf.pem + int.pem)}`,
      `  tls.key: ${b64(leaf.keyPem)}`,
      `  ca.crt: "${b64(int.pem)}"`,
      '',
    ].join('\n');
    const { regions, blocks } = analyse(text, 'yaml');
    assert.deepEqual(regions.map((r) => r.form), ['base64', 'base64', 'base64']);
    assert.deepEqual(blocks.map((b) => [b.kind, b.range.start.line]), [['certificate', 6], ['certificate', 6], ['privateKey', 7], ['certificate', 8]]);
    assert.equal(blocks[0].certificate?.commonName, 'api.example.com');
    assert.equal(blocks[1].certificate?.commonName, 'emb Intermediate CA');
    for (const b of blocks) assert.deepEqual(b.problems, []);
    // The two certificates of tls.crt split the value between them, in order, without overlapping.
    const valueStart = lineOf(text, 6).indexOf('LS0t');
    assert.equal(blocks[0].range.start.character, valueStart);
    assert.ok(blocks[0].range.end.character < blocks[1].range.start.character);
    assert.ok(blocks[1].range.end.character <= lineOf(text, 6).length);
    assert.equal(text.slice(blocks[0].offsets.start, blocks[0].offsets.start + 13), 'LS0tLS1CRUdJT');
    // The quoted ca.crt starts after its quote.
    assert.equal(blocks[3].range.start.character, lineOf(text, 8).indexOf('"') + 1);
  });

  it('a kubeconfig: certificate-authority-data, client-certificate-data, client-key-data', () => {
    const text = [
      'apiVersion: v1',
      'clusters:',
      '- cluster:',
      `    certificate-authority-data: ${b64(int.pem)}`,
      '    server: https://k8s.example.test:6443',
      '  name: prod',
      'users:',
      '- name: admin',
      '  user:',
      `    client-certificate-data: ${b64(leaf.pem)}`,
      `    client-key-data: ${b64(leaf.keyPem)}`,
    ].join('\n');
    const { blocks } = analyse(text, 'yaml');
    assert.deepEqual(blocks.map((b) => [b.kind, b.range.start.line, b.range.start.character]), [
      ['certificate', 3, 32],
      ['certificate', 9, 29],
      ['privateKey', 10, 21],
    ]);
  });

  it('base64 wrapped over lines in a block scalar maps onto the right lines', () => {
    const wrapped = b64(leaf.pem).replace(/.{76}/g, '$&\n');
    const text = `data:\n  tls.crt: |\n${indent(wrapped, 4)}\n`;
    const { regions, blocks } = analyse(text, 'yaml');
    assert.equal(regions[0].form, 'base64');
    assert.equal(blocks.length, 1);
    assert.deepEqual(blocks[0].range.start, { line: 2, character: 4 });
    assert.equal(blocks[0].range.end.line, 2 + wrapped.trimEnd().split('\n').length - 1);
    assert.equal(blocks[0].certificate?.commonName, 'api.example.com');
  });

  it('a YAML literal block scalar keeps exact line positions and is found once', () => {
    const text = `tls:\n  cert: |\n${indent(leaf.pem, 4)}\n  key: |-\n${indent(leaf.keyPem, 4)}\nother: x\n`;
    const { regions, blocks } = analyse(text, 'yaml');
    assert.deepEqual(regions.map((r) => r.form), ['yaml-block', 'yaml-block']);
    assert.equal(blocks.length, 2, 'the plain scan and the region must not both report a block');
    assert.deepEqual(blocks[0].range.start, { line: 2, character: 4 });
    assert.match(lineOf(text, blocks[0].range.end.line), /^ {4}-----END CERTIFICATE-----$/);
    assert.equal(blocks[0].range.end.character, lineOf(text, blocks[0].range.end.line).length);
    assert.equal(blocks[1].kind, 'privateKey');
    // Without regions the plain scan finds the same blocks at the same places.
    assert.deepEqual(analyzeDocument(text).blocks.map((b) => b.range), blocks.map((b) => b.range));
  });

  it('YAML double- and single-quoted scalars with escapes and folding', () => {
    const dq = JSON.stringify(leaf.pem);
    const text = `a: ${dq}\nb: '${leaf.pem.trimEnd().split('\n').join('\n\n   ')}'\n`;
    const { regions, blocks } = analyse(text, 'yaml');
    assert.deepEqual(regions.map((r) => r.form), ['yaml-quoted', 'yaml-quoted']);
    assert.equal(blocks.length, 2);
    assert.deepEqual(blocks.map((b) => b.problems), [[], []]);
    assert.deepEqual(blocks[0].range, { start: { line: 0, character: 4 }, end: { line: 0, character: 3 + dq.length - 3 } });
    assert.equal(blocks[0].certificate?.sha256, blocks[1].certificate?.sha256);
    // The single-quoted one spans its source lines (blank lines fold to line breaks).
    assert.equal(blocks[1].range.start.line, 1);
    assert.ok(blocks[1].range.end.line > 1);
  });

  it('JSON strings with \\n escapes and base64 values, in JSON and JSONC', () => {
    const obj = { tls: { cert: leaf.pem, chain: int.pem }, data: { 'ca.crt': b64(int.pem) } };
    const json = JSON.stringify(obj, null, 2);
    const { regions, blocks } = analyse(json, 'json');
    assert.deepEqual(regions.map((r) => r.form), ['json-string', 'json-string', 'base64']);
    assert.deepEqual(blocks.map((b) => b.kind), ['certificate', 'certificate', 'certificate']);
    for (const b of blocks) {
      assert.deepEqual(b.problems, []);
      assert.equal(b.range.start.line, b.range.end.line, 'a JSON string lies on one line');
    }
    const certLine = lineOf(json, blocks[0].range.start.line);
    assert.equal(certLine.slice(blocks[0].range.start.character, blocks[0].range.end.character), JSON.stringify(leaf.pem.trimEnd()).slice(1, -1));
    const jsonc = `// kept for the load balancer\n{\n  /* "not a string" */ "cert": ${JSON.stringify(leaf.pem)}, // trailing\n}\n`;
    const c = analyse(jsonc, 'jsonc');
    assert.deepEqual(c.blocks.map((b) => [b.kind, b.range.start.line]), [['certificate', 2]]);
  });

  it('dotenv: multi-line double-quoted, \\n-escaped, single-quoted, export, base64', () => {
    const text = [
      '# service settings',
      'PORT=8443',
      `TLS_CERT="${leaf.pem.trimEnd()}"`,
      `export TLS_KEY='${leaf.keyPem.trimEnd()}'`,
      `CA_CERT="${int.pem.replace(/\n/g, '\\n')}"`,
      `CA_B64=${b64(int.pem)} # base64`,
      '',
    ].join('\n');
    const { regions, blocks } = analyse(text, 'dotenv');
    assert.deepEqual(regions.map((r) => r.form), ['dotenv', 'dotenv', 'dotenv', 'base64']);
    assert.deepEqual(blocks.map((b) => b.kind), ['certificate', 'privateKey', 'certificate', 'certificate']);
    for (const b of blocks) assert.deepEqual(b.problems, []);
    assert.deepEqual(blocks[0].range.start, { line: 2, character: 'TLS_CERT="'.length });
    assert.match(lineOf(text, blocks[0].range.end.line), /^-----END CERTIFICATE-----"$/);
    assert.equal(blocks[0].range.end.character, '-----END CERTIFICATE-----'.length);
    const caLine = lineOf(text, blocks[2].range.start.line);
    assert.ok(caLine.startsWith('CA_CERT="'));
    assert.equal(blocks[2].range.start.character, 'CA_CERT="'.length);
  });

  it('plain text: escaped PEM in a log line and a base64 word; raw PEM is left to the plain scan', () => {
    const text = `2024-01-01 loaded cert="${leaf.pem.replace(/\n/g, '\\n')}" ok\nbundle ${b64(int.pem)}\n${leaf.pem}`;
    const { regions, blocks } = analyse(text, 'plaintext');
    assert.deepEqual(regions.map((r) => r.form), ['escaped', 'base64']);
    assert.deepEqual(blocks.map((b) => b.range.start.line), [0, 1, 2]);
    assert.equal(blocks[0].range.start.character, text.indexOf('-----BEGIN'));
    for (const b of blocks) assert.deepEqual(b.problems, []);
  });

  it('no regions for other languages, documents without PEM, or PEM past maxBytes', () => {
    const yaml = `a: ${JSON.stringify(leaf.pem)}\n`;
    assert.equal(embeddedRegions(yaml, 'pem').length, 0);
    assert.equal(embeddedRegions(yaml, 'python').length, 0);
    assert.equal(embeddedRegions('a: 1\nb: [x, y]\n', 'yaml').length, 0);
    assert.equal(embeddedRegions(`pad: ${'x'.repeat(100)}\n${yaml}`, 'yaml', { maxBytes: 50 }).length, 0);
    assert.equal(embeddedRegions(yaml, 'yaml', { maxBytes: yaml.length }).length, 1);
  });

  it('base64 that does not decode to PEM, and broken YAML, give no bogus regions', () => {
    assert.deepEqual(embeddedRegions(`x: LS0tLS1CRUdJTi!!notbase64\n`, 'yaml'), []);
    assert.deepEqual(embeddedRegions(`x: ${b64('-----BEGIX')}\n`, 'yaml'), []);
    // Unclosed flow collections and quotes still yield what can be read.
    const broken = `a: [${JSON.stringify(leaf.pem)}\nb: "unclosed\n`;
    const { blocks } = analyse(broken, 'yaml');
    assert.ok(blocks.every((b) => b.range.start.line === 0));
  });

  it('absurd YAML nesting is not handed to the parser (it could exhaust the stack) and still yields escaped and base64 PEM', () => {
    // Regression: 5,000 nested flow sequences made the yaml parser abort the whole process.
    const inner = `${JSON.stringify(leaf.pem)}, ${b64(int.pem)}`;
    for (const text of ['['.repeat(200_000) + inner + ']'.repeat(200_000), '- '.repeat(100_000) + inner + '\n', '['.repeat(5000) + inner + ']'.repeat(5000)]) {
      const { regions, blocks } = analyse(text, 'yaml');
      assert.deepEqual(regions.map((r) => r.form), ['escaped', 'base64']);
      assert.deepEqual(blocks.map((b) => b.certificate?.commonName), ['api.example.com', 'emb Intermediate CA']);
    }
    assert.equal(nestsDeeperThan('a:\n  - [b, {c: d}]\n  - ? e\n    : f\n', 256), false);
    assert.equal(nestsDeeperThan(' '.repeat(300) + 'a: b\n', 256), true);
    assert.equal(nestsDeeperThan('{'.repeat(257), 256), true);
  });
});

describe('embedded: position mapping', () => {
  it('JSON unescaping maps each character to its escape', () => {
    const doc = 'x "a\\nb\\u0041\\\\c"';
    const v = decodeJsonString(doc, 3, doc.length - 1);
    assert.equal(v.text, 'a\nbA\\c');
    assert.deepEqual([...v.map], [3, 4, 6, 7, 13, 15, 16]);
  });

  it('YAML double-quoted folding and escaped line breaks match the yaml package', () => {
    const doc = '"one  \n   two\n\n  three\\\n   four\\tfive"';
    const v = decodeQuoted(doc, 1, doc.length - 1, true);
    assert.equal(v.text, 'one two\nthreefour\tfive');
    assert.equal(v.map[v.text.indexOf('two')], doc.indexOf('two'));
    assert.equal(v.map[v.text.indexOf('four')], doc.indexOf('four'));
    assert.equal(v.map[v.text.length], doc.length - 1);
  });

  it('line index uses LSP line ends', () => {
    const idx = new LineIndex('a\r\nb\rc\nd');
    assert.deepEqual([0, 3, 5, 7, 8].map((o) => idx.position(o)), [
      { line: 0, character: 0 },
      { line: 1, character: 0 },
      { line: 2, character: 0 },
      { line: 3, character: 0 },
      { line: 3, character: 1 },
    ]);
  });

  it('every region locates its ends inside its value range', () => {
    const text = `k: ${b64(leaf.pem)}\nq: ${JSON.stringify(int.pem)}\n`;
    for (const r of embeddedRegions(text, 'yaml')) {
      const s = r.locate(0);
      const e = r.locate(r.text.length);
      assert.deepEqual({ line: s.line, character: s.character }, r.valueRange.start);
      assert.deepEqual({ line: e.line, character: e.character }, r.valueRange.end);
      assert.ok(r.locate(-5).offset === s.offset && r.locate(1e9).offset === e.offset, 'out-of-range offsets are clamped');
    }
  });
});

describe('embedded: quick-fix safety', () => {
  it('only blocks standing on their own lines may be edited line-wise', () => {
    const yaml = `a: |\n${indent(leaf.pem, 2)}\nb: ${JSON.stringify(leaf.pem)}\nc: ${b64(leaf.pem)}\n`;
    const regions = embeddedRegions(yaml, 'yaml');
    const a = analyzeDocument(yaml, { regions });
    assert.deepEqual(a.blocks.map((b) => standsOnOwnLines(yaml, b)), [true, false, false]);
    const diags = a.blocks.map((b) => ({ data: { block: b.index } }));
    assert.deepEqual(editableDiagnostics(a, yaml, [...diags, { data: undefined }]).map((d) => d.data?.block), [0, undefined]);
  });
});
