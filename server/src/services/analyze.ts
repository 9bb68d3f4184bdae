/**
 * The one way a document becomes a DocumentAnalysis, for the language server
 * and the CLI: PEM files are scanned as they are; YAML, JSON, .env and plain
 * text are also searched for embedded PEM (and base64 PEM, as in Kubernetes
 * Secrets) while `certops.embedded.enabled` is on, with positions inside the
 * document.
 */
import { analyzeDocument, DocumentAnalysis } from '../analysis';
import { embeddedRegions, EMBEDDED_LANGUAGES } from '../embedded';
import type { CertopsSettings } from './settings';

/** Analyses `text` as a document of `languageId` under `settings` (size limit, embedded detection). Never throws. */
export function analyzeText(text: string, languageId: string, settings: CertopsSettings): DocumentAnalysis {
  const maxBytes = Math.round(settings.limits.maxFileSizeMB * 1048576);
  // YAML, JSON, .env and plain-text documents are certops' business only while embedded PEM is enabled.
  const host = EMBEDDED_LANGUAGES.includes(languageId);
  const scanned = host && !settings.embedded.enabled ? '' : text;
  return analyzeDocument(scanned, { maxBytes, regions: host ? embeddedRegions(scanned, languageId, { maxBytes }) : undefined });
}
