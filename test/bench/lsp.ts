// Language-server benchmarks over stdio, each beside a reference measured in the same run.
// Prints figures; asserts nothing about time (these machines are shared and noisy).
import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import * as x509 from '@peculiar/x509';
import { LspClient } from '../lsp/client';
import { mutuallyNamingCAs } from '../fixtures/hostile';

const ROOT = resolve(__dirname, '..', '..', '..');
const BUNDLE = process.env.CERTOPS_BENCH_BUNDLE ?? '/etc/ssl/certs/ca-certificates.crt';
const OUT = join(ROOT, 'out', 'bench');

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))];
const fmt = (x: number) => `${x.toFixed(1)} ms`;

function rss(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

/** CPU time a process has used, from /proc (10 ms resolution): steadier than wall time on a shared machine. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The whole-process reference: openssl decoding and printing every certificate of the bundle. */
function opensslReference(file: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('sh', ['-c', `openssl crl2pkcs7 -nocrl -certfile '${file}' | openssl pkcs7 -print_certs -text -noout > /dev/null`]);
  if (r.status !== 0) throw new Error(`openssl reference failed: ${r.stderr}`);
  return ms(t0);
}

/** Distinct certificates (one CA, `n` leaves), cached for a day under out/bench/. */
async function generatedBundle(n: number): Promise<string> {
  const file = join(OUT, `bundle-${n}.pem`);
  if (existsSync(file) && Date.now() - statSync(file).mtimeMs < 86_400_000) return file;
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const caKeys = await webcrypto.subtle.generateKey(alg, false, ['sign', 'verify']);
  const leafKeys = await webcrypto.subtle.generateKey(alg, false, ['sign', 'verify']);
  const now = Date.now();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: 'CN=certops bench CA', notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 3650 * 86_400_000),
    keys: caKeys as CryptoKeyPair, signingAlgorithm: alg,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: (i + 2).toString(16).padStart(8, '0'), subject: `CN=host-${i}.bench.certops.test`, issuer: ca.subject,
      notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 400 * 86_400_000),
      publicKey: (leafKeys as CryptoKeyPair).publicKey, signingKey: (caKeys as CryptoKeyPair).privateKey, signingAlgorithm: alg,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: `host-${i}.bench.certops.test` }])],
    });
    parts.push(leaf.toString('pem'));
  }
  parts.push(ca.toString('pem'));
  mkdirSync(OUT, { recursive: true });
  writeFileSync(file, `${parts.join('\n')}\n`);
  return file;
}

/** Line numbers of each BEGIN line, to aim edits and hovers at a block. */
function beginLines(text: string): number[] {
  return text.split('\n').flatMap((l, i) => (l.startsWith('-----BEGIN') ? [i] : []));
}

async function cold(text: string, runs = 5): Promise<{ times: number[]; pid: number }> {
  const times: number[] = [];
  let pid = 0;
  for (let i = 0; i < runs; i++) {
    const client = await LspClient.start();
    const t0 = process.hrtime.bigint();
    await client.open(`file:///bench/cold-${i}.pem`, text);
    times.push(ms(t0));
    pid = client.process.pid ?? 0;
    await client.stop();
  }
  return { times, pid };
}

/**
 * hostile: CA certificates that all name each other (test/fixtures/hostile.ts) at growing sizes.
 * Time from didOpen to diagnostics, the longest a hover on another document waited meanwhile
 * (hovers are sent back to back until the diagnostics arrive), and `certops lint` on the same file.
 */
async function hostile(): Promise<void> {
  const sizes = [100, 200, 400];
  mkdirSync(OUT, { recursive: true });
  const small = join(OUT, 'hostile-1.pem');
  writeFileSync(small, await mutuallyNamingCAs(1));
  // Median of three runs of the real binary, start-up included.
  // The real binary, three runs: median wall time and median CPU time (user + system, from bash's `time`).
  const lint = (file: string) => {
    const runs = [0, 1, 2].map(() => {
      const t0 = process.hrtime.bigint();
      const r = spawnSync('bash', ['-c', `TIMEFORMAT='%U %S'; time '${process.execPath}' '${join(ROOT, 'dist', 'cli.js')}' lint '${file}' > /dev/null`], { encoding: 'utf8' });
      const [user, sys] = r.stderr.trim().split(/\s+/).slice(-2).map(Number);
      return { wall: ms(t0), cpu: (user + sys) * 1000 };
    });
    return { wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.cpu)) };
  };
  const lintRef = lint(small);
  const rows: { n: number; diag: number; cpu: number; gap: number; hovers: number; lint: { wall: number; cpu: number } }[] = [];
  /** didOpen to diagnostics on a fresh server, hovering another document back to back meanwhile when `hover`. */
  const openHostile = async (n: number, text: string, hover: boolean) => {
    const s = await LspClient.start();
    const other = 'file:///bench/other.pem';
    await s.open(other, await mutuallyNamingCAs(1));
    let done = false;
    const cpu0 = cpuMs(s.process.pid!);
    const t0 = process.hrtime.bigint();
    const uri = `file:///bench/hostile-${n}.pem`;
    // Longer than open()'s 10 s, so a slow server is measured rather than failed.
    const opened = s.waitFor(uri, () => true, 300_000).finally(() => (done = true));
    await s.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'pem', version: 1, text } });
    let gap = 0;
    let hovers = 0;
    while (hover && !done) {
      const h0 = process.hrtime.bigint();
      if (!(await s.hover(other, { line: 1, character: 2 }))) throw new Error('no hover on the other document');
      gap = Math.max(gap, ms(h0));
      hovers++;
    }
    await opened;
    const diag = ms(t0);
    const cpu = cpuMs(s.process.pid!) - cpu0;
    await s.stop();
    return { diag, cpu, gap, hovers };
  };
  for (const n of sizes) {
    const text = await mutuallyNamingCAs(n);
    const file = join(OUT, `hostile-${n}.pem`);
    writeFileSync(file, text);
    // The median of three quiet runs (hovers served meanwhile take their share of the machine), then one run hovering.
    const quiet = [];
    for (let k = 0; k < 3; k++) quiet.push(await openHostile(n, text, false));
    const hovered = await openHostile(n, text, true);
    rows.push({ n, diag: median(quiet.map((r) => r.diag)), cpu: median(quiet.map((r) => r.cpu)), gap: hovered.gap, hovers: hovered.hovers, lint: lint(file) });
  }
  for (const r of rows) {
    console.log(`hostile ${String(r.n).padStart(3)} mutually-naming CAs: diagnostics median ${fmt(r.diag)} (server CPU ${r.cpu} ms), longest hover wait ${fmt(r.gap)} (${r.hovers} hovers meanwhile), certops lint median ${fmt(r.lint.wall)} (CPU ${r.lint.cpu.toFixed(0)} ms)`);
  }
  // Wall-clock figures on a shared machine: the load says how far to trust them.
  console.log(`        (load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores)`);
  const at = (n: number) => rows.find((r) => r.n === n) as (typeof rows)[number];
  const nlogn = (400 * Math.log(400)) / (200 * Math.log(200));
  // Lint's own work is small beside its start-up (the trust store is read), so its growth is shown start-up included.
  console.log(`        growth 200→400: diagnostics ×${(at(400).diag / at(200).diag).toFixed(2)}, server CPU ×${(at(400).cpu / Math.max(10, at(200).cpu)).toFixed(2)}, lint CPU ×${(at(400).lint.cpu / Math.max(10, at(200).lint.cpu)).toFixed(2)} (target ≤ ×${nlogn.toFixed(2)}, n log n; lint on one certificate: ${lintRef.cpu.toFixed(0)} ms CPU)`);
  console.log(`        200 blocks: diagnostics ${fmt(at(200).diag)}, lint ${fmt(at(200).lint.wall)} (target < 1000 ms)`);
}

async function main(): Promise<void> {
  // CERTOPS_BENCH_ONLY=hostile runs one section.
  if (process.env.CERTOPS_BENCH_ONLY === 'hostile') return hostile();
  const bundleText = readFileSync(BUNDLE, 'utf8');
  const blocks = beginLines(bundleText);
  console.log(`# language server benchmarks (node ${process.version}, ${BUNDLE}: ${blocks.length} blocks, ${(bundleText.length / 1024).toFixed(0)} KB)`);

  // cold: didOpen to diagnostics, a fresh server each run, beside openssl decoding the same bundle.
  const ref = Array.from({ length: 5 }, () => opensslReference(BUNDLE));
  const c = await cold(bundleText);
  console.log(`cold    certops didOpen→diagnostics median ${fmt(median(c.times))} (runs: ${c.times.map((t) => t.toFixed(0)).join(', ')})`);
  console.log(`        openssl crl2pkcs7|pkcs7 -print_certs -text median ${fmt(median(ref))}  → ${median(c.times) <= median(ref) ? 'within' : 'OVER'} target (no slower than openssl)`);

  // edit: one character changed inside one block, to new diagnostics.
  const client = await LspClient.start();
  const uri = 'file:///bench/edit.pem';
  await client.open(uri, bundleText);
  const target = blocks[Math.floor(blocks.length / 2)] + 3;
  const edits: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t0 = process.hrtime.bigint();
    await client.edit(uri, { start: { line: target, character: 10 }, end: { line: target, character: 11 } }, i % 2 ? 'Q' : 'R');
    edits.push(ms(t0));
  }
  console.log(`edit    one character in block ${Math.floor(blocks.length / 2) + 1} → diagnostics: median ${fmt(median(edits))}, p95 ${fmt(p95(edits))} (target ≤ 10 ms)`);
  await client.stop();

  // scale: 10,000 distinct certificates.
  const bigFile = await generatedBundle(10_000);
  const big = readFileSync(bigFile, 'utf8');
  const bigBlocks = beginLines(big);
  const ref10k = opensslReference(bigFile);
  const s = await LspClient.start();
  const t0 = process.hrtime.bigint();
  await s.open('file:///bench/10k.pem', big);
  const diag = ms(t0);
  const mem = rss(s.process.pid!);
  const hovers: number[] = [];
  for (let i = 0; i < 20; i++) {
    const line = bigBlocks[(i * 487) % bigBlocks.length] + 2;
    const h0 = process.hrtime.bigint();
    const h = await s.hover('file:///bench/10k.pem', { line, character: 3 });
    hovers.push(ms(h0));
    if (!h) throw new Error(`no hover on line ${line} of the 10,000-certificate bundle`);
  }
  // Issuer links need every signature checked, work the diagnostics of a bundle do not wait for; shown so it is not hidden.
  const k0 = process.hrtime.bigint();
  const links = await s.links('file:///bench/10k.pem');
  const linksMs = ms(k0);
  const after = rss(s.process.pid!);
  console.log(`scale   ${bigBlocks.length} certificates (${(big.length / 1e6).toFixed(1)} MB): diagnostics ${fmt(diag)} (target ≤ 2000 ms; openssl -text on the same file ${fmt(ref10k)})`);
  console.log(`        server RSS ${mem.rssMb.toFixed(0)} MB after diagnostics, peak ${after.peakMb.toFixed(0)} MB (target ≤ 300 MB)`);
  console.log(`        hover median ${fmt(median(hovers))}, max ${fmt(Math.max(...hovers))} (target ≤ 20 ms)`);
  console.log(`        document links (${links.length}, every issuer signature verified) ${fmt(linksMs)} after the hovers (no target)`);
  await s.stop();

  // beyond the size limit: one information diagnostic, never a hang.
  // Past the default certops.limits.maxFileSizeMB (32).
  const huge = big.repeat(Math.ceil((33 * 1024 * 1024) / big.length));
  const l = await LspClient.start();
  try {
    const h0 = process.hrtime.bigint();
    const d = await l.open('file:///bench/huge.pem', huge);
    const text = (x: (typeof d)[number]) => (typeof x.message === 'string' ? x.message : x.message.value);
    const limitNote = d.find((x) => /limit|large/i.test(text(x)));
    console.log(`limit   ${(huge.length / 1e6).toFixed(1)} MB file: diagnostics in ${fmt(ms(h0))}${limitNote ? `, "${limitNote.code}: ${text(limitNote)}"` : ', no size-limit diagnostic'}`);
  } catch (e) {
    console.log(`limit   ${(huge.length / 1e6).toFixed(1)} MB file: FAILED (${(e as Error).message.split(';')[0]})`);
    process.exitCode = 1;
  } finally {
    await l.stop();
  }

  await hostile();
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
