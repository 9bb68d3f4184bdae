// `certops lint` (the editor's chain diagnostics) and `certops verify` (RFC 5280 path validation) read the same
// decoded model, compare names by the same rule and check signatures with the same verifier, so on the same
// chain file they must reach the same verdict. Every intentional difference is listed here with its reason.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runCliInProcess } from '../fixtures/cli';
import {
  CN, Keys, buildCertificate, caExtensions, leafExtensions, name, newKeys, pem, printable, utcText, utcTime, utf8,
} from '../fixtures/der';

const dir = mkdtempSync(join(tmpdir(), 'certops-agree-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const write = (file: string, content: string) => {
  const path = join(dir, file);
  writeFileSync(path, content);
  return path;
};

const now = Date.now();
const rootKeys = newKeys();
const interKeys = newKeys();
const leafKeys = newKeys();
const rootName = name([CN, utf8('Agreement Root')]);
const interName = name([CN, utf8('Agreement Intermediate')]);
const root = buildCertificate({ issuer: rootName, subject: rootName, keys: rootKeys, extensions: caExtensions(rootKeys) });
const rootPem = write('root.pem', pem(root));

function intermediate(opts: { notAfter?: number; issuerName?: Buffer } = {}): Buffer {
  return buildCertificate({
    issuer: opts.issuerName ?? rootName, subject: interName, keys: interKeys, signer: rootKeys, extensions: caExtensions(interKeys, rootKeys),
    ...(opts.notAfter ? { notAfter: utcTime(utcText(opts.notAfter)) } : {}),
  });
}

function leaf(opts: { signer?: Keys; issuerName?: Buffer } = {}): Buffer {
  return buildCertificate({
    issuer: opts.issuerName ?? interName, subject: name([CN, utf8('leaf.example.com')]), keys: leafKeys,
    signer: opts.signer ?? interKeys, extensions: leafExtensions(leafKeys, interKeys),
  });
}

const cli = (argv: string[]) => runCliInProcess(argv, { SSL_CERT_FILE: rootPem });

/** The codes lint reports that speak about the chain's validity. */
const CHAIN_CODES = /\b(chain-broken|chain-signature|chain-issuer-not-ca|chain-pathlen|chain-incomplete|chain-order|cert-expired|cert-not-yet-valid|pem-malformed)\b/g;

interface Case {
  name: string;
  file: string;
  /** When lint and verify intentionally differ: what each says, and why. */
  difference?: { lint: string[]; verify: boolean; reason: string };
}

const cases: Case[] = [
  { name: 'good chain, leaf first', file: pem(leaf(), intermediate()) },
  { name: 'missing intermediate', file: pem(leaf()) },
  {
    name: 'wrong order',
    file: pem(intermediate(), leaf()),
    difference: {
      lint: ['chain-order'],
      verify: true,
      reason: 'verify builds the path whatever the file order (as TLS clients do), while lint warns that servers must send the leaf first',
    },
  },
  { name: 'expired intermediate', file: pem(leaf(), intermediate({ notAfter: now - 86_400_000 })) },
  { name: 'PrintableString issuer under a UTF8String subject', file: pem(leaf({ issuerName: name([CN, printable('Agreement Intermediate')]) }), intermediate({ issuerName: name([CN, printable('Agreement Root')]) })) },
  { name: 'wrong signature', file: pem(leaf({ signer: newKeys() }), intermediate()) },
];

describe('lint and verify agree on chains', () => {
  for (const c of cases) {
    test(c.name, async () => {
      const file = write(`${c.name.replace(/\W+/g, '-')}.pem`, c.file);
      const lint = await cli(['lint', '--ca', rootPem, file]);
      const verify = await cli(['verify', '--roots', rootPem, file]);
      const lintCodes = [...new Set(lint.out.match(CHAIN_CODES) ?? [])].sort();
      const verifyOk = verify.code === 0;
      const detail = `lint: ${lint.out}${lint.err}\nverify: ${verify.out}${verify.err}`;
      assert.ok(lint.code !== 2 && verify.code !== 2, detail);
      if (c.difference) {
        assert.deepEqual(lintCodes, c.difference.lint, detail);
        assert.equal(verifyOk, c.difference.verify, detail);
      } else {
        assert.equal(lintCodes.length === 0, verifyOk, detail);
      }
    });
  }

  test('the verdicts are the expected ones', async () => {
    const expected: Record<string, boolean> = {
      'good chain, leaf first': true,
      'missing intermediate': false,
      'wrong order': true,
      'expired intermediate': false,
      'PrintableString issuer under a UTF8String subject': true,
      'wrong signature': false,
    };
    for (const c of cases) {
      const file = write(`v-${c.name.replace(/\W+/g, '-')}.pem`, c.file);
      assert.equal((await cli(['verify', '--roots', rootPem, file])).code === 0, expected[c.name], c.name);
    }
  });
});
