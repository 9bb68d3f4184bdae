// `certops inspect FILE...`: every block of every file, with the fields the editor's hover shows.
import type { AnalyzedBlock, DocumentAnalysis } from '../analysis';
import type { TrustStore } from '../analysis/truststore';
import { describeBlock } from '../services/hover';
import { LoadedFile, loadFile } from './blocks';
import { contextFor } from './context';
import { CliIo, EXIT, loadEach, painter, parseCommand, printJson, untrusted, UsageError } from './io';
import type { Command } from './main';
import { cliTrustStore } from './trust';

const HELP = `Usage: certops inspect FILE... [--ca FILE]... [--json]

Shows every block of every file in order: certificates, keys (public facts
only), CSRs, CRLs, PKCS#7, parameters and unknown labels, from PEM (any
encoding, with surrounding text), PEM or base64 PEM embedded in YAML, JSON,
.env files and Kubernetes Secrets (as in the editor), or DER files. The fields
are those of the editor's hover. The trust store is $SSL_CERT_FILE /
$SSL_CERT_DIR, else the system bundle, else Node's bundled roots; --ca adds
trust anchors to it, and the output says which store was used. A file that
cannot be read is reported on stderr and the others are still shown. Exit 0
when every file could be read, 2 otherwise; malformed blocks are shown, not
fatal (use "certops lint" to fail on them).
`;

/** The `inspect` command. */
export const inspectCommand: Command = {
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseCommand('inspect', args, { ca: { type: 'string', multiple: true } });
    if (positionals.length === 0) throw new UsageError('expected at least one FILE (see certops inspect --help)');
    const trust = cliTrustStore(io, values.ca ?? []);
    // Every file is read before anything is printed; unreadable ones are reported on stderr and skipped.
    const { loaded: files, bad } = loadEach('inspect', positionals, io, (p) => loadFile(p));
    if (values.json) {
      printJson(io, { files: files.map(fileJson), unreadable: bad, trustStore: { description: trust.description, roots: trust.count } });
    } else {
      files.forEach((f, i) => printText(io, f, trust, i > 0));
      if (files.some((f) => f.analysis.blocks.some((b) => b.certificate))) io.out(`\ntrust store: ${untrusted(trust.description)}\n`);
    }
    return bad.length > 0 ? EXIT.usage : EXIT.ok;
  },
};

/** The JSON form of one file: the engine's model minus editor-only offsets, with Maps as objects. */
export function fileJson(f: LoadedFile) {
  return { file: f.path, format: f.der ? 'der' : 'pem', language: f.language ?? null, blocks: f.analysis.blocks.map(blockJson), chain: chainJson(f.analysis) };
}

function blockJson(b: AnalyzedBlock) {
  const { offsets: _offsets, attachedStartLine: _attached, ...rest } = b;
  return rest;
}

function chainJson(a: DocumentAnalysis) {
  const c = a.chain;
  return { ...c, duplicates: Object.fromEntries(c.duplicates), issuerOf: Object.fromEntries(c.issuerOf) };
}

function printText(io: CliIo, f: LoadedFile, trust: TrustStore, separate: boolean): void {
  const paint = painter(io.color);
  const context = contextFor(f, io, trust);
  const a = f.analysis;
  const n = a.blocks.length;
  const lines = [`${separate ? '\n' : ''}${paint('bold', untrusted(f.path))}: ${f.der ? 'DER, ' : ''}${n} block${n === 1 ? '' : 's'}${a.chain.mode === 'chain' || a.chain.mode === 'bundle' ? `, certificates form a ${a.chain.mode}` : ''}`];
  for (const b of a.blocks) {
    const at = f.der ? '' : ` (lines ${b.range.start.line + 1}-${b.range.end.line + 1})`;
    lines.push('', `${paint('dim', `[${b.index + 1}]`)}${at}`, ...markdownToText(describeBlock(a, b, context), paint));
  }
  io.out(`${lines.join('\n')}\n`);
}

/**
 * The hover is markdown for the editor; the terminal gets the same facts as
 * aligned "Key  value" lines, escaped (untrusted) before any colour is added.
 */
export function markdownToText(md: string, paint: (style: 'bold' | 'red', s: string) => string): string[] {
  const rows: [string, string][] = [];
  const out: string[] = [];
  for (const line of md.split('\n').map(untrusted)) {
    if (line === '| | |' || line === '|---|---|' || line === '') continue;
    const row = /^\| (.*?) \| (.*) \|$/.exec(line);
    if (row) rows.push([row[1], row[2]]);
    else out.push(inline(line, paint));
  }
  const width = Math.max(0, ...rows.map(([k]) => k.length));
  for (const [k, v] of rows) {
    const [first, ...more] = v.split('<br>').map((s) => inline(s, paint));
    out.push(`  ${k.padEnd(width)}  ${first}`, ...more.map((m) => `  ${''.padEnd(width)}  ${m}`));
  }
  return out;
}

function inline(s: string, paint: (style: 'bold' | 'red', s: string) => string): string {
  return s
    .replace(/\*\*(.+?)\*\*/g, (_m, t: string) => paint('bold', t))
    .replace(/`([^`]*)`/g, '$1')
    .replace(/\\([|\\`*_<>[\]])/g, '$1');
}
