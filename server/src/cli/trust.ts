// Where trust anchors come from: the files the operator named, else the engine's trust store (analysis/truststore), as in the editor.
import { resolveTrust, TrustStore } from '../analysis/truststore';
import { RAW } from '../analysis';
import { loadCertificates } from './blocks';
import { CliIo, UsageError } from './io';

/** Trust anchors as DER, with a description of where they came from for the output. */
export interface Roots {
  source: string;
  certificates: Buffer[];
}

/**
 * The store the language server would use (SSL_CERT_FILE/SSL_CERT_DIR, else the
 * platform bundle, else Node's roots) plus `--ca` files. An unreadable file named
 * by the environment or by `--ca` is a usage error: in a terminal the operator
 * can fix it, and a silently empty store would turn every chain "incomplete".
 */
export function cliTrustStore(io: CliIo, extraCaFiles: readonly string[] = []): TrustStore {
  const { store, base } = resolveTrust({ env: io.env, extraCAFiles: extraCaFiles, extraLabel: '--ca' });
  const bad = store.errors[0];
  if (bad !== undefined) {
    const byCa = extraCaFiles.some((f) => bad.startsWith(`${f}: `));
    if (byCa || base === 'env') throw new UsageError(`${bad} (named by ${byCa ? '--ca' : 'SSL_CERT_FILE or SSL_CERT_DIR'})`);
  }
  return store;
}

/** The certificates of `files`, or of the engine's trust store when none are given. */
export function loadRoots(files: string[], io: CliIo): Roots {
  if (files.length > 0) return { source: files.join(', '), certificates: files.flatMap((f) => loadCertificates(f).map((c) => c.der)) };
  const store = cliTrustStore(io);
  if (store.count === 0) throw new UsageError(`the trust store is empty (${store.description}); name the trust anchors with --roots FILE`);
  return { source: store.description, certificates: store.certificates().map((c) => c[RAW].der) };
}

/** Every certificate of every file, in order; for intermediates and CRL-free inputs. */
export function loadAllCertificates(files: string[]): Buffer[] {
  return files.flatMap((f) => loadCertificates(f).map((c) => c.der));
}
