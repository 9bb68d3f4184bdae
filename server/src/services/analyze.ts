/**
 * The one way a document becomes a DocumentAnalysis, for the language server
 * and the CLI: PEM files are scanned as they are; YAML, JSON, .env and plain
 * text are also searched for embedded PEM (and base64 PEM, as in Kubernetes
 * Secrets) while `certops.embedded.enabled` is on, with positions inside the
 * document. Key files are paired with their sibling files the same way for both.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { analyzeDocument, analyzeDocumentSteps, decodeFileBytes, DocumentAnalysis, finishSteps } from '../analysis';
import type { SiblingDocument } from '../analysis/match';
import { siblingNames } from '../analysis/siblings';
import { embeddedRegions, EMBEDDED_LANGUAGES } from '../embedded';
import type { CertopsSettings } from './settings';

/** Analyses `text` as a document of `languageId` under `settings` (size limit, embedded detection). Never throws. */
export function analyzeText(text: string, languageId: string, settings: CertopsSettings): DocumentAnalysis {
  return finishSteps(analyzeTextSteps(text, languageId, settings));
}

/** `analyzeText` a block at a time (see analyzeDocumentSteps), for a server that spreads large documents over turns. */
export function analyzeTextSteps(text: string, languageId: string, settings: CertopsSettings): Generator<void, DocumentAnalysis, void> {
  const maxBytes = Math.round(settings.limits.maxFileSizeMB * 1048576);
  // YAML, JSON, .env and plain-text documents are certops' business only while embedded PEM is enabled.
  const host = EMBEDDED_LANGUAGES.includes(languageId);
  const scanned = host && !settings.embedded.enabled ? '' : text;
  return analyzeDocumentSteps(scanned, { maxBytes, regions: host ? embeddedRegions(scanned, languageId, { maxBytes }) : undefined });
}

/** Sibling files are read from disk only up to this size: a multi-megabyte neighbour is not a key. */
export const SIBLING_MAX_BYTES = 1 << 20;

/** Sibling analyses read from disk, by path, kept while their size and mtime are unchanged. */
export type SiblingCache = Map<string, { stamp: string; analysis: DocumentAnalysis }>;

/**
 * The files beside `path` that may hold its key or certificate (the names of
 * analysis/siblings), each taken from `open` when the editor has it open, else
 * read from disk (at most SIBLING_MAX_BYTES, through `cache` when given). The
 * language server and the CLI both pair keys through this. Never throws.
 */
export function siblingDocuments(path: string, opts: { open?: (uri: string) => DocumentAnalysis | undefined; cache?: SiblingCache } = {}): SiblingDocument[] {
  const names = siblingNames(basename(path));
  if (!names) return [];
  const out: SiblingDocument[] = [];
  for (const name of names.candidates) {
    const p = join(dirname(path), name);
    const uri = pathToFileURL(p).toString();
    const open = opts.open?.(uri);
    if (open) {
      out.push({ name, uri, analysis: open });
      continue;
    }
    try {
      const st = statSync(p);
      if (!st.isFile() || st.size > SIBLING_MAX_BYTES) continue;
      const stamp = `${st.size}:${st.mtimeMs}`;
      let entry = opts.cache?.get(p);
      if (!entry || entry.stamp !== stamp) {
        entry = { stamp, analysis: analyzeDocument(decodeFileBytes(readFileSync(p))) };
        opts.cache?.set(p, entry);
      }
      out.push({ name, uri, analysis: entry.analysis });
    } catch {
      // Missing or unreadable siblings are simply not paired.
    }
  }
  return out;
}

/** The mode bits of `path` when its analysis holds a private key (for `key-permissions`), else undefined. */
export function keyFileMode(path: string, analysis: DocumentAnalysis): number | undefined {
  if (!analysis.blocks.some((b) => b.kind === 'privateKey')) return undefined;
  try {
    return statSync(path).mode;
  } catch {
    return undefined;
  }
}
