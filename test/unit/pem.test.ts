import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { scanPem } from '../../server/src/pem/scanner';
import { decodeFileBytes } from '../../server/src/pem/text';

const BODY = 'MAkGByqGSM49AgE=';
const block = (label: string, body = BODY) => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;

describe('scanPem', () => {
  it('finds blocks with exact ranges and offsets between other text', () => {
    const text = 'subject=x\n' + block('CERTIFICATE') + 'junk\n  ' + block('PUBLIC KEY').replace(/\n(?=.)/g, '\n  ');
    const blocks = scanPem(text);
    assert.deepEqual(blocks.map((b) => b.label), ['CERTIFICATE', 'PUBLIC KEY']);
    assert.deepEqual(blocks[0].range, { start: { line: 1, character: 0 }, end: { line: 3, character: 25 } });
    assert.equal(blocks[0].attachedStartLine, 0, 'the subject= line belongs to the block');
    assert.deepEqual(blocks[1].range.start, { line: 5, character: 2 });
    assert.equal(text.slice(blocks[1].offsets.start, blocks[1].offsets.end), block('PUBLIC KEY').trimEnd().replace(/\n/g, '\n  '));
    assert.equal(blocks[0].der.toString('hex'), Buffer.from(BODY, 'base64').toString('hex'));
  });
  it('counts CRLF and lone CR as one line break', () => {
    const [b] = scanPem('x\r\n\r' + block('CERTIFICATE').replace(/\n/g, '\r\n'));
    assert.equal(b.range.start.line, 2);
    assert.equal(b.range.end.line, 4);
    assert.deepEqual(b.problems, []);
  });
  it('reads RFC 1421 headers and reports bad base64, missing and mismatched END', () => {
    const [h] = scanPem('-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n' + BODY + '\n-----END RSA PRIVATE KEY-----\n');
    assert.deepEqual(h.headers, [['Proc-Type', '4,ENCRYPTED'], ['DEK-Info', 'AES-128-CBC,00']]);
    assert.deepEqual(h.problems, []);
    assert.match(scanPem(block('CERTIFICATE', 'ab$d'))[0].problems[0], /line 2 is not base64/);
    const [missing, next] = scanPem(`-----BEGIN CERTIFICATE-----\n${BODY}\n\n` + block('CERTIFICATE'));
    assert.match(missing.problems[0], /missing/);
    assert.equal(missing.range.end.line, 1);
    assert.equal(next.range.start.line, 3);
    assert.match(scanPem(block('CERTIFICATE').replace('END CERTIFICATE', 'END X509 CRL'))[0].problems[0], /does not match/);
  });
  it('ignores a BOM', () => {
    const [b] = scanPem('\ufeff' + block('CERTIFICATE'));
    assert.deepEqual(b.problems, []);
    assert.equal(b.range.start.line, 0);
  });
});

describe('decodeFileBytes', () => {
  const text = block('CERTIFICATE');
  it('decodes UTF-8 with and without BOM, and UTF-16 LE/BE with a BOM', () => {
    assert.equal(decodeFileBytes(Buffer.from(text)), text);
    assert.equal(decodeFileBytes(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])), text);
    assert.equal(decodeFileBytes(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])), text);
    assert.equal(decodeFileBytes(Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()])), text);
  });
  it('recognises UTF-16 LE without a BOM', () => {
    assert.equal(decodeFileBytes(Buffer.from(text, 'utf16le')), text);
  });
});
