// The CA/Browser Forum rule against wildcards over public suffixes, with the system's Public Suffix List.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validatePath } from '../../server/src/validation';
import { SYSTEM_PUBLIC_SUFFIX_LIST, isPublicSuffix, parsePublicSuffixList, systemPublicSuffixList } from '../../server/src/validation/suffix';
import { CN, buildCertificate, caExtensions, extension, leafExtensions, name, newKeys, seq, tlv, utf8 } from '../fixtures/der';
import { ensureDebianPackages } from '../tools/debian.mjs';

ensureDebianPackages([[SYSTEM_PUBLIC_SUFFIX_LIST, 'publicsuffix']]);

describe('public suffixes', () => {
  const list = parsePublicSuffixList([
    '// ===BEGIN ICANN DOMAINS===', 'com', 'co.uk', '*.ck', '!www.ck', '// comment', '// ===END ICANN DOMAINS===',
    '// ===BEGIN PRIVATE DOMAINS===', 's3.amazonaws.com', '// ===END PRIVATE DOMAINS===',
  ].join('\n'));
  test('rules, wildcards and exceptions of the ICANN section; the private section does not count', () => {
    assert.equal(isPublicSuffix('com', list), true);
    assert.equal(isPublicSuffix('co.uk', list), true);
    assert.equal(isPublicSuffix('example.co.uk', list), false);
    assert.equal(isPublicSuffix('anything.ck', list), true);
    assert.equal(isPublicSuffix('www.ck', list), false);
    assert.equal(isPublicSuffix('s3.amazonaws.com', list), false);
  });
  test('the system list is read', () => {
    const sys = systemPublicSuffixList();
    assert.ok(sys && sys.rules.size > 1000);
    assert.equal(isPublicSuffix('co.uk', sys), true);
  });
  test('a leaf whose SAN is a wildcard over a public suffix is refused; one over a registered name is not', () => {
    const rootKeys = newKeys();
    const rootName = name([CN, utf8('Suffix Root')]);
    const root = buildCertificate({ issuer: rootName, subject: rootName, keys: rootKeys, extensions: caExtensions(rootKeys) });
    const verdict = (san: string, host: string) => {
      const keys = newKeys();
      const exts = leafExtensions(keys, rootKeys).slice(0, 5);
      exts.push(extension('2.5.29.17', false, seq(tlv(0x82, Buffer.from(san)))));
      const leaf = buildCertificate({ issuer: rootName, subject: name([CN, utf8('leaf')]), keys, signer: rootKeys, extensions: exts });
      return validatePath({ leaf, roots: [root], intermediates: [], peerName: { kind: 'DNS', value: host }, extendedKeyUsage: ['serverAuth'] });
    };
    const bad = verdict('*.co.uk', 'example.co.uk');
    assert.equal(bad.valid, false);
    assert.match(bad.errors.map((e) => e.message).join(), /wildcard dNSName "\*\.co\.uk" covers the public suffix co\.uk/);
    assert.equal(verdict('*.example.co.uk', 'www.example.co.uk').valid, true);
  });
});
