// Where trust anchors come from: the files the operator named, else the system store like OpenSSL finds it.
import { existsSync } from 'node:fs';
import { SYSTEM_BUNDLE } from '../analysis/truststore';
import { loadCertificates } from './blocks';
import { CliIo, UsageError } from './io';

/** Trust anchors as DER, with a description of where they came from for the output. */
export interface Roots {
  source: string;
  certificates: Buffer[];
}

/** The certificates of `files`, or of $SSL_CERT_FILE / the system bundle when none are given. */
export function loadRoots(files: string[], io: CliIo): Roots {
  if (files.length > 0) return { source: files.join(', '), certificates: files.flatMap((f) => loadCertificates(f).map((c) => c.der)) };
  const envFile = io.env.SSL_CERT_FILE;
  const file = envFile || SYSTEM_BUNDLE;
  if (!existsSync(file)) {
    throw new UsageError(`${file}: no such file (${envFile ? 'named by SSL_CERT_FILE' : 'the system trust store'}); name the trust anchors with --roots FILE`);
  }
  return { source: envFile ? `${file} (SSL_CERT_FILE)` : `${file} (system store)`, certificates: loadCertificates(file).map((c) => c.der) };
}

/** Every certificate of every file, in order; for intermediates and CRL-free inputs. */
export function loadAllCertificates(files: string[]): Buffer[] {
  return files.flatMap((f) => loadCertificates(f).map((c) => c.der));
}
