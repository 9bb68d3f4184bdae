// The same per-file context the language server builds (sibling key/cert files, trust store, file mode), from the disk.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TrustStore } from '../analysis/truststore';
import { keyFileMode, siblingDocuments } from '../services/analyze';
import type { ServiceContext } from '../services/context';
import type { LoadedFile } from './blocks';
import type { CliIo } from './io';

/** The analysis context for one file: what hover and diagnostics see in the editor; `trust` comes from cliTrustStore. */
export function contextFor(file: LoadedFile, io: CliIo, trust: TrustStore): ServiceContext {
  const path = resolve(file.path);
  return {
    now: io.now(),
    uri: pathToFileURL(path).toString(),
    siblings: siblingDocuments(path),
    trust,
    fileMode: keyFileMode(path, file.analysis),
  };
}
