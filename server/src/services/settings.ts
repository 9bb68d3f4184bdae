/** The `certops.*` settings the language server reads, resolved per resource into one typed object. */
import { resolveTrustStore, TrustStore } from '../analysis/truststore';

/** Settings for one document. */
export interface CertopsSettings {
  expiry: {
    /** `cert-expiring` warning within this many days. */
    warningDays: number;
    /** `cert-expiring-critical` error within this many days. */
    criticalDays: number;
  };
  trust: {
    /** PEM bundles trusted in addition to the base store (SSL_CERT_FILE/SSL_CERT_DIR, else the platform bundle, else Node's roots). */
    extraCAFiles: string[];
  };
  limits: {
    /** Documents larger than this many MiB are only partly analysed. */
    maxFileSizeMB: number;
  };
  embedded: {
    /** Look for PEM embedded in YAML, JSON, .env files and Kubernetes secrets. */
    enabled: boolean;
  };
  codeLens: {
    /** Show a CodeLens above each block. */
    enabled: boolean;
  };
}

/** The defaults, identical to package.json's `contributes.configuration`. */
export const DEFAULT_SETTINGS: CertopsSettings = {
  expiry: { warningDays: 30, criticalDays: 7 },
  trust: { extraCAFiles: [] },
  limits: { maxFileSizeMB: 32 },
  embedded: { enabled: true },
  codeLens: { enabled: true },
};

/** Merges a raw `certops` configuration section (possibly partial or ill-typed) over the defaults. */
export function resolveSettings(raw: unknown): CertopsSettings {
  const r = (raw ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const num = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : d);
  const bool = (v: unknown, d: boolean) => (typeof v === 'boolean' ? v : d);
  const files = r.trust?.extraCAFiles;
  return {
    expiry: {
      warningDays: num(r.expiry?.warningDays, DEFAULT_SETTINGS.expiry.warningDays),
      criticalDays: num(r.expiry?.criticalDays, DEFAULT_SETTINGS.expiry.criticalDays),
    },
    trust: { extraCAFiles: Array.isArray(files) ? files.filter((f): f is string => typeof f === 'string') : [] },
    limits: { maxFileSizeMB: num(r.limits?.maxFileSizeMB, DEFAULT_SETTINGS.limits.maxFileSizeMB) },
    embedded: { enabled: bool(r.embedded?.enabled, DEFAULT_SETTINGS.embedded.enabled) },
    codeLens: { enabled: bool(r.codeLens?.enabled, DEFAULT_SETTINGS.codeLens.enabled) },
  };
}

/** The trust store for `settings`: the engine's base store (see analysis/truststore) plus `certops.trust.extraCAFiles`. */
export function trustStoreFor(settings: CertopsSettings, env?: Record<string, string | undefined>): TrustStore {
  return resolveTrustStore({ env, extraCAFiles: settings.trust.extraCAFiles, extraLabel: 'certops.trust.extraCAFiles' });
}
