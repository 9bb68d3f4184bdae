/**
 * x509-limbo conformance benchmark for `certops verify --batch`: every case
 * goes through validateLine, the function behind each batch input line, with
 * nothing but the documented input fields. Prints agreement
 * with `expected_result` overall, for SERVER cases, outside `bettertls::` and
 * per namespace, timings, and writes the disagreements to out/bench/.
 *
 * Skips: cases whose `features` name something this validator does not
 * implement (see UNIMPLEMENTED) are counted as skipped, as the suite's README
 * allows; figures are printed both without them and with them counted as
 * disagreements. Cases listed in `conflicts_with` of each other encode
 * opposite profiles; they are scored like any other case.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { BAD_INPUT, validateLine } from '../../server/src/cli/verify-batch';
import { systemPublicSuffixList } from '../../server/src/validation/suffix';

/** Features this validator cannot check here: the public-suffix wildcard rule needs the system's Public Suffix List (Debian's publicsuffix package). */
const UNIMPLEMENTED = new Set(systemPublicSuffixList() ? [] : ['pedantic-public-suffix-wildcard']);

interface LimboCase {
  id: string;
  features?: string[];
  validation_kind: 'SERVER' | 'CLIENT';
  trusted_certs: string[];
  untrusted_intermediates: string[];
  peer_certificate: string;
  validation_time: string | null;
  expected_peer_name: { kind: 'DNS' | 'IP' | 'RFC822'; value: string } | null;
  extended_key_usage: string[];
  key_usage: string[];
  max_chain_depth: number | null;
  crls: string[];
  expected_result: 'SUCCESS' | 'FAILURE';
}

interface Outcome {
  c: LimboCase;
  skipped: boolean;
  agree: boolean;
  codes: string[];
  ms: number;
}

// The project root is the working directory (run-limbo.mjs sets it); the suite lives beside the project.
const file = process.env.LIMBO ?? resolve('..', 'shared', 'conformance', 'x509-limbo.json.gz');
const outDir = process.env.LIMBO_OUT ?? join('out', 'bench');
if (!existsSync(file)) {
  console.log(`x509-limbo: the suite is not at ${file} (expected ../shared/conformance/x509-limbo.json.gz beside the project root, or LIMBO=FILE); conformance not measured`);
  process.exit(2);
}
const suite = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as { testcases: LimboCase[] };

function run(c: LimboCase): Outcome {
  const skipped = (c.features ?? []).some((f) => UNIMPLEMENTED.has(f));
  const t0 = process.hrtime.bigint();
  const line = JSON.stringify({
    id: c.id,
    leaf: c.peer_certificate,
    roots: c.trusted_certs,
    intermediates: c.untrusted_intermediates,
    peerName: c.expected_peer_name,
    at: c.validation_time,
    // Limbo's SERVER profile means TLS server authentication unless the case names its own usages.
    purpose: c.extended_key_usage.length === 0 && c.validation_kind === 'SERVER' ? 'server' : null,
    extendedKeyUsage: c.extended_key_usage,
    keyUsage: c.key_usage,
    maxDepth: c.max_chain_depth,
    crls: c.crls,
  });
  const r = validateLine(line, 1, new Date());
  const ok = r.valid;
  // A bad-input result is an exception in the validator or a case the batch format cannot express: both are findings.
  const codes = r.errors.map((e) => (e.code === BAD_INPUT ? `${BAD_INPUT}:${e.message}` : e.code));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { c, skipped, agree: ok === (c.expected_result === 'SUCCESS'), codes, ms };
}

const results = suite.testcases.map(run);

function pct(n: number, d: number): string {
  return d ? `${((100 * n) / d).toFixed(2)}%` : 'n/a';
}

function line(label: string, rs: Outcome[]): string {
  const scored = rs.filter((r) => !r.skipped);
  const agree = scored.filter((r) => r.agree).length;
  const skipped = rs.length - scored.length;
  return `${label.padEnd(34)} ${pct(agree, scored.length).padStart(8)}  (${agree}/${scored.length}, ${skipped} skipped; ${pct(agree, rs.length)} counting skips as disagreements)`;
}

const ns = (r: Outcome) => r.c.id.split('::')[0];
const report: string[] = [];
report.push(`x509-limbo: ${results.length} cases from ${file}`);
report.push(line('overall', results));
report.push(line('SERVER', results.filter((r) => r.c.validation_kind === 'SERVER')));
report.push(line('outside bettertls', results.filter((r) => ns(r) !== 'bettertls')));
report.push(line('SERVER outside bettertls', results.filter((r) => ns(r) !== 'bettertls' && r.c.validation_kind === 'SERVER')));
report.push('per namespace:');
for (const n of [...new Set(results.map(ns))].sort()) report.push('  ' + line(n, results.filter((r) => ns(r) === n)));
const times = results.map((r) => r.ms);
report.push(`time per case: mean ${(times.reduce((a, b) => a + b, 0) / times.length).toFixed(3)} ms, max ${Math.max(...times).toFixed(1)} ms`);
const patho = results.filter((r) => ns(r) === 'pathological').sort((a, b) => b.ms - a.ms);
report.push('slowest pathological cases:');
for (const r of patho.slice(0, 5)) report.push(`  ${r.ms.toFixed(1).padStart(8)} ms  ${r.c.id}  [${r.codes.join(', ')}]`);
report.push(`pathological max ${patho.length ? patho[0].ms.toFixed(1) : 0} ms (target < 1000 ms)`);
const skippedCases = results.filter((r) => r.skipped);
report.push(`skipped (unimplemented features ${[...UNIMPLEMENTED].join(', ')}): ${skippedCases.map((r) => r.c.id).join(', ') || 'none'}`);

const disagreements = results.filter((r) => !r.skipped && !r.agree);
const listing = disagreements.map((r) => `${r.c.id}\texpected ${r.c.expected_result}\t[${r.codes.join(', ')}]`);
mkdirSync(outDir, { recursive: true });
const listFile = join(outDir, 'limbo-disagreements.txt');
writeFileSync(listFile, listing.join('\n') + '\n');
writeFileSync(join(outDir, 'limbo-summary.txt'), report.join('\n') + '\n');
report.push(`${disagreements.length} disagreements written to ${listFile}`);
console.log(report.join('\n'));
