// What the speed work relies on, checked by behaviour rather than time: unchanged
// blocks are not decoded again, a bundle's issuer signatures are checked only
// when someone reads them, with the same answers as an eager check, and the
// signature checks of one document are bounded however its certificates name
// each other. The times themselves are measured by `npm run bench`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeDocument, analyzeDocumentSteps } from '../../server/src/analysis';
import { chainSettled, chainStats, MAX_FAILED_SIGNATURE_CHECKS, settleChain, settleIssuers } from '../../server/src/analysis/chain';
import { decodeStats } from '../../server/src/analysis/decode';
import { bodyStats } from '../../server/src/pem/scanner';
import { CA_EXT, Issued, Pki, ROOT_EXT, leafExt } from '../fixtures/pki';
import { mutuallyNamingCAs } from '../fixtures/hostile';

const pem = (der: Uint8Array) => `-----BEGIN CERTIFICATE-----\n${(Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE-----\n`;

describe('analysis of documents that barely change', () => {
  let pki: Pki;
  let root: Issued;
  let leaves: Issued[];
  let forged: string;

  before(() => {
    pki = new Pki();
    root = pki.issue('root', { subject: '/CN=Perf Root', ext: ROOT_EXT });
    leaves = [0, 1, 2].map((i) => pki.issue(`leaf-${i}`, { subject: `/CN=host-${i}.test`, issuer: root, ext: leafExt(`DNS:host-${i}.test`) }));
    // Names and key identifiers still link to the root; the signature no longer verifies.
    const der = Buffer.from(leaves[2].der);
    der[der.length - 1] ^= 0x01;
    forged = pem(der);
  });
  after(() => pki.dispose());

  it('an edit inside one block decodes that block and no other', () => {
    const blocks = [root.pem, leaves[0].pem, leaves[1].pem];
    analyzeDocument(blocks.join(''));
    const lines = leaves[0].pem.split('\n');
    const c = lines[3][10];
    lines[3] = `${lines[3].slice(0, 10)}${c === 'A' ? 'B' : 'A'}${lines[3].slice(11)}`;
    const d0 = { ...decodeStats };
    const b0 = { ...bodyStats };
    const a = analyzeDocument([blocks[0], lines.join('\n'), blocks[2]].join(''));
    assert.equal(a.blocks.length, 3);
    assert.equal(bodyStats.misses - b0.misses, 1);
    assert.equal(bodyStats.hits - b0.hits, 2);
    assert.equal(decodeStats.misses - d0.misses, 1);
    assert.equal(decodeStats.hits - d0.hits, 2);
  });

  it('a re-scan of the same text reuses every body, line ends and all', () => {
    const text = [root.pem, leaves[0].pem].join('').replace(/\n/g, '\r\n');
    const first = analyzeDocument(text);
    const b0 = { ...bodyStats };
    const again = analyzeDocument(text);
    assert.equal(bodyStats.misses, b0.misses);
    assert.deepEqual(
      again.blocks.map((b) => [b.range, b.offsets, b.problems]),
      first.blocks.map((b) => [b.range, b.offsets, b.problems]),
    );
  });

  it('a bundle answers issuer questions on demand, in file order, without the forged one', () => {
    const checks = chainStats.signatureChecks;
    const a = analyzeDocument([root.pem, leaves[0].pem, leaves[1].pem, forged].join(''));
    assert.equal(a.chain.mode, 'bundle');
    assert.equal(chainStats.signatureChecks, checks, 'no signature checked before an issuer is read');
    assert.ok(a.blocks[3].certificate, 'the forged certificate still decodes');
    // Read out of order first: iteration must still follow the file.
    assert.equal(a.chain.issuerOf.get(2), 0);
    assert.equal(a.chain.issuerOf.has(3), false);
    assert.deepEqual([...a.chain.issuerOf], [
      [1, 0],
      [2, 0],
    ]);
    assert.equal(a.chain.issuerOf.size, 2);
    assert.equal(settleIssuers(a.chain, 0), true);
    assert.equal(chainStats.signatureChecks - checks, 3, 'one check per certificate that names an issuer here');
    assert.equal(a.chain.limited, undefined);
  });

  it('settleIssuers completes a bundle in slices with the eager answer', () => {
    const a = analyzeDocument([root.pem, leaves[0].pem, leaves[1].pem, forged].join(''));
    let turns = 0;
    while (!settleIssuers(a.chain, 0)) turns++;
    assert.ok(turns <= 3);
    assert.deepEqual(Object.fromEntries(a.chain.issuerOf), { 1: 0, 2: 0 });
  });

  it('a stepwise analysis decodes one block per step and ends with what analyzeDocument gives', () => {
    const text = [leaves[0].pem, root.pem, 'junk\n', forged].join('');
    const steps = analyzeDocumentSteps(text);
    let count = 0;
    let step = steps.next();
    for (; !step.done; step = steps.next()) count++;
    assert.equal(count, 3);
    const once = analyzeDocument(text);
    assert.deepEqual(step.value.blocks, once.blocks);
    assert.equal(step.value.chain.mode, once.chain.mode);
  });

  it('a chain is still checked at once', () => {
    const a = analyzeDocument([leaves[0].pem, root.pem].join(''));
    assert.equal(a.chain.mode, 'chain');
    assert.deepEqual(a.chain.order, [0, 1]);
    assert.deepEqual([...a.chain.issuerOf], [[0, 1]]);
    assert.ok(a.chain.links.every((l) => l.status === 'ok'));
  });

  it('a crowd of mutually-naming CAs ahead in the file does not keep the other certificates from their issuers', async () => {
    const crowd = await mutuallyNamingCAs(100);
    const a = analyzeDocument([crowd, root.pem, leaves[0].pem, leaves[1].pem].join(''));
    assert.equal(a.chain.mode, 'bundle');
    // Fewest candidates first: the leaves, whose key identifier names one issuer, are decided before the crowd spends the budget.
    assert.deepEqual(Object.fromEntries(a.chain.issuerOf), { 101: 100, 102: 100 });
    assert.equal(a.chain.limited?.checked, MAX_FAILED_SIGNATURE_CHECKS + 2);
    assert.ok(!a.chain.limited?.undecided.includes(101) && !a.chain.limited?.undecided.includes(102));
  });

  it('among CAs sharing a name, the key identifier picks the issuer: one signature check per certificate', () => {
    const older = pki.issue('int-old', { subject: '/CN=Perf Intermediate', issuer: root, ext: CA_EXT });
    const newer = pki.issue('int-new', { subject: '/CN=Perf Intermediate', issuer: root, ext: CA_EXT });
    const leaf = pki.issue('leaf-new', { subject: '/CN=renewed.test', issuer: newer, ext: leafExt('DNS:renewed.test') });
    const checks = chainStats.signatureChecks;
    const a = analyzeDocument([leaf.pem, older.pem, newer.pem, root.pem].join(''));
    assert.deepEqual(Object.fromEntries(a.chain.issuerOf), { 0: 2, 1: 3, 2: 3 });
    assert.equal(chainStats.signatureChecks - checks, 3);
  });
});

describe('CA certificates that all name each other', () => {
  for (const n of [100, 400]) {
    it(`${n} of them: the chain analysis stops after ${MAX_FAILED_SIGNATURE_CHECKS} failed signature checks and says where`, async () => {
      const text = await mutuallyNamingCAs(n);
      const checks = chainStats.signatureChecks;
      const a = analyzeDocument(text);
      assert.equal(a.blocks.length, n);
      assert.equal(chainStats.signatureChecks, checks, 'nothing checked before the chain is read');
      assert.equal(a.chain.mode, 'bundle', 'unchecked candidates leave no order to report');
      assert.equal(chainStats.signatureChecks - checks, MAX_FAILED_SIGNATURE_CHECKS);
      assert.equal(a.chain.issuerOf.size, 0);
      // Each certificate names the n / 2 of the other name; those are tried in file order until the budget runs out.
      const decided = Math.floor(MAX_FAILED_SIGNATURE_CHECKS / (n / 2));
      assert.deepEqual(a.chain.limited, {
        candidatePairs: (n * n) / 2,
        checked: MAX_FAILED_SIGNATURE_CHECKS,
        failedLimit: MAX_FAILED_SIGNATURE_CHECKS,
        undecided: Array.from({ length: n - decided }, (_, k) => decided + k),
      });
      assert.equal(chainStats.signatureChecks - checks, MAX_FAILED_SIGNATURE_CHECKS, 'reading it all again checks nothing more');
    });
  }

  it('without key identifiers, names alone link them: the same budget', async () => {
    const text = await mutuallyNamingCAs(200, { keyIdentifiers: false });
    const checks = chainStats.signatureChecks;
    const a = analyzeDocument(text);
    assert.equal(a.blocks[0].certificate?.authorityKeyId, undefined);
    assert.equal(a.chain.limited?.candidatePairs, 200 * 100);
    assert.equal(chainStats.signatureChecks - checks, MAX_FAILED_SIGNATURE_CHECKS);
  });

  it('settleChain does the checks in slices, one per call with a zero budget; the chain is final only at the end', async () => {
    const a = analyzeDocument(await mutuallyNamingCAs(100));
    let calls = 0;
    while (!chainSettled(a.chain)) {
      const checks = chainStats.signatureChecks;
      settleChain(a.chain, 0);
      // Even within one certificate's 50 candidates: a slice never runs past its budget by more than one check.
      assert.ok(chainStats.signatureChecks - checks <= 1);
      calls++;
    }
    assert.ok(calls >= MAX_FAILED_SIGNATURE_CHECKS);
    assert.equal(a.chain.limited?.checked, MAX_FAILED_SIGNATURE_CHECKS);
  });
});
