// The same per-file context the language server builds (sibling key/cert files, trust store, file mode), from the disk.
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { analyzeDocument, decodeFileBytes } from '../analysis';
import type { SiblingDocument } from '../analysis/match';
import { siblingNames } from '../analysis/siblings';
import type { TrustStore } from '../analysis/truststore';
import type { ServiceContext } from '../services/context';
import type { LoadedFile } from './blocks';
import type { CliIo } from './io';

// Large sibling files are not read just to pair a key, as in the language server.
const SIBLING_MAX_BYTES = 1 << 20;

/** The analysis context for one file: what hover and diagnostics see in the editor; `trust` comes from cliTrustStore. */
export function contextFor(file: LoadedFile, io: CliIo, trust: TrustStore): ServiceContext {
  const path = resolve(file.path);
  let fileMode: number | undefined;
  if (file.analysis.blocks.some((b) => b.kind === 'privateKey')) {
    try {
      fileMode = statSync(path).mode;
    } catch {
      fileMode = undefined;
    }
  }
  return {
    now: io.now(),
    uri: pathToFileURL(path).toString(),
    siblings: siblingsOf(path),
    trust,
    fileMode,
  };
}

function siblingsOf(path: string): SiblingDocument[] {
  const names = siblingNames(basename(path));
  if (!names) return [];
  const out: SiblingDocument[] = [];
  for (const name of names.candidates) {
    const p = join(dirname(path), name);
    try {
      const st = statSync(p);
      if (!st.isFile() || st.size > SIBLING_MAX_BYTES) continue;
      out.push({ name, uri: pathToFileURL(p).toString(), analysis: analyzeDocument(decodeFileBytes(readFileSync(p))) });
    } catch {
      // Missing or unreadable siblings are simply not paired, as in the editor.
    }
  }
  return out;
}
