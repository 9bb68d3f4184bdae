/**
 * The evidence a rotation leaves: one JSON record and its Markdown rendering
 * under `.certops/rotations/` beside the inventory. Records hold names,
 * paths, fingerprints, timestamps and command output, never key material.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CertFacts, Finding } from './preflight';

/** How a rotation ended. */
export type FinalState =
  /** The new certificate is served (and the check passed). */
  | 'rotated'
  /** Something failed after the backup; the old files are back and the old certificate is served. */
  | 'rolled-back'
  /** A rollback could not be verified: a person must look (see `advice`). */
  | 'needs-attention'
  /** Refused before any change on the host. */
  | 'refused'
  /** A dry run: the plan only. */
  | 'planned';

/** One step of the transaction. */
export interface StepRecord {
  name: string;
  startedAt: string;
  endedAt: string;
  ok: boolean;
  detail: string;
}

/** One handshake made to see what the endpoint serves. */
export interface ProbeRecord {
  at: string;
  purpose: 'baseline' | 'verify' | 'rollback' | 'recover';
  sha256?: string;
  error?: string;
}

/** One file the rotation touched, as planned and as found. */
export interface FileRecord {
  role: 'cert' | 'key' | 'ca';
  path: string;
  backup: string;
  /** Octal, as found before the rotation. */
  mode?: string;
  owner?: string;
  /** Octal mode the new file is created with. */
  newMode?: string;
}

/** The whole record of one rotation, rollback or recovery. */
export interface RotationRecord {
  id: string;
  kind: 'rotate' | 'rollback' | 'recover';
  /** For a rollback: the rotation it undid. */
  rollbackOf?: string;
  /** For a recovery: the interrupted rotation it finished. */
  interrupted?: string;
  who: string;
  host: string;
  endpoint: string;
  /** Where the endpoint was probed: `host:port`, with SNI, through SSH or not, STARTTLS. */
  where?: string;
  startedAt: string;
  endedAt: string;
  state: FinalState;
  /** One sentence: why it ended so. */
  message: string;
  /** What to do, for needs-attention. */
  advice?: string[];
  findings: Finding[];
  old: { served?: string; file?: CertFacts };
  new?: CertFacts & { chain: string[] };
  /** For a trust-only rotation: the certificates of the new CA file. */
  newCa?: CertFacts[];
  files: FileRecord[];
  steps: StepRecord[];
  reload?: { kind: string; code: number | null; output: string }[];
  probes: ProbeRecord[];
  /** Milliseconds from the renames to the first handshake that served the new certificate. */
  cutoverMs?: number;
  check?: { kind: string; ok: boolean; output: string };
  /** Mutual TLS: which client certificates were accepted and refused, one line each. */
  clientChecklist?: { kind: string; ok: boolean; output: string };
  /** The plan of a dry run (human lines). */
  plan?: string[];
}

/** The evidence folder for an inventory file. */
export function evidenceDir(inventoryFile: string): string {
  return join(dirname(inventoryFile), '.certops', 'rotations');
}

/** A file-name-safe form of a host or endpoint name. */
function safe(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);
}

/** Writes `<id>.json` and `<id>.md`; returns the JSON path. */
export function writeEvidence(dir: string, record: RotationRecord): string {
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${record.id}-${safe(record.host)}-${safe(record.endpoint)}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(record, null, 2)}\n`);
  writeFileSync(`${base}.md`, renderMarkdown(record));
  return `${base}.json`;
}

/** Every record in `dir` for one endpoint, oldest first. */
export function readEvidence(dir: string, host: string, endpoint: string): { path: string; record: RotationRecord }[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return [];
  }
  const out: { path: string; record: RotationRecord }[] = [];
  for (const n of names) {
    try {
      const record = JSON.parse(readFileSync(join(dir, n), 'utf8')) as RotationRecord;
      if (record.host === host && record.endpoint === endpoint) out.push({ path: join(dir, n), record });
    } catch {
      // A damaged record is skipped; the others still count.
    }
  }
  return out;
}

/** Control characters (terminal escapes included) shown as \xNN. */
export function escapeControls(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Inline text for Markdown: controls escaped, Markdown punctuation neutralised. */
function md(s: string): string {
  return escapeControls(s).replace(/\n/g, ' ').replace(/([\\`*_[\]<>|#])/g, '\\$1');
}

/** A fenced block whose fence is longer than any backtick run inside. */
function fenced(s: string): string {
  const longest = Math.max(2, ...(s.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}\n${escapeControls(s).replace(/\n$/, '')}\n${fence}`;
}

/** The record as a Markdown document for people. */
export function renderMarkdown(r: RotationRecord): string {
  const lines: string[] = [];
  const title = r.kind === 'rotate' ? 'Rotation' : r.kind === 'rollback' ? 'Rollback' : 'Recovery';
  lines.push(`# ${title} ${md(r.id)}: ${md(r.host)}/${md(r.endpoint)}`, '');
  lines.push(`**${r.state}**: ${md(r.message)}`, '');
  if (r.advice?.length) {
    lines.push('What to do:', '');
    for (const a of r.advice) lines.push(`- ${md(a)}`);
    lines.push('');
  }
  lines.push('| | |', '| --- | --- |');
  lines.push(`| who | ${md(r.who)} |`);
  if (r.where) lines.push(`| where | ${md(r.where)} |`);
  lines.push(`| started | ${r.startedAt} |`, `| ended | ${r.endedAt} |`);
  if (r.rollbackOf) lines.push(`| undoes | ${md(r.rollbackOf)} |`);
  if (r.old.served) lines.push(`| served before | \`${r.old.served}\` |`);
  if (r.old.file) lines.push(`| old certificate | ${md(r.old.file.subject)}, until ${r.old.file.notAfter}, sha256 \`${r.old.file.sha256}\`, spki \`${r.old.file.spkiSha256}\` |`);
  if (r.new) lines.push(`| new certificate | ${md(r.new.subject)}, until ${r.new.notAfter}, sha256 \`${r.new.sha256}\`, spki \`${r.new.spkiSha256}\` |`);
  for (const c of r.newCa ?? []) lines.push(`| new CA file | ${md(c.subject)}, until ${c.notAfter}, sha256 \`${c.sha256}\` |`);
  if (r.cutoverMs !== undefined) lines.push(`| cutover delay | ${r.cutoverMs} ms |`);
  lines.push('');
  if (r.findings.length) {
    lines.push('## Preflight', '');
    for (const f of r.findings) lines.push(`- ${f.severity} ${f.code}: ${md(f.message)}`);
    lines.push('');
  }
  if (r.plan?.length) {
    lines.push('## Plan', '');
    for (const p of r.plan) lines.push(`- ${md(p)}`);
    lines.push('');
  }
  if (r.files.length) {
    lines.push('## Files', '', '| role | path | mode | owner | backup |', '| --- | --- | --- | --- | --- |');
    for (const f of r.files) lines.push(`| ${f.role} | ${md(f.path)} | ${f.mode ?? ''}${f.newMode && f.newMode !== f.mode ? ` → ${f.newMode}` : ''} | ${md(f.owner ?? '')} | ${md(f.backup)} |`);
    lines.push('');
  }
  lines.push('## Steps', '', '| step | started | ended | outcome |', '| --- | --- | --- | --- |');
  for (const s of r.steps) lines.push(`| ${md(s.name)} | ${s.startedAt} | ${s.endedAt} | ${s.ok ? 'ok' : '**failed**'}: ${md(s.detail)} |`);
  lines.push('');
  for (const rl of r.reload ?? []) {
    lines.push(`## Reload (${md(rl.kind)}, exit ${rl.code ?? 'none'})`, '', fenced(rl.output || '(no output)'), '');
  }
  if (r.check) lines.push(`## Check (${md(r.check.kind)}): ${r.check.ok ? 'passed' : '**failed**'}`, '', fenced(r.check.output || '(no output)'), '');
  if (r.clientChecklist) lines.push(`## Client checklist: ${r.clientChecklist.ok ? 'passed' : '**failed**'}`, '', fenced(r.clientChecklist.output), '');
  if (r.probes.length) {
    lines.push('## Probes', '', '| at | purpose | served sha256 |', '| --- | --- | --- |');
    for (const p of r.probes) lines.push(`| ${p.at} | ${p.purpose} | ${p.sha256 ? `\`${p.sha256}\`` : md(p.error ?? '')} |`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}
