/**
 * The file names operators pair certificates and keys with, so a key file
 * can be checked against its certificate and the other way round.
 */

/** Which role a file name suggests and the sibling names that may hold its counterpart, most likely first. */
export interface SiblingNames {
  role: 'certificate' | 'key';
  candidates: string[];
}

/** Sibling file names for a base name (no directory), or undefined when the name follows no known pattern. */
export function siblingNames(baseName: string): SiblingNames | undefined {
  const n = baseName;
  // Let's Encrypt / certbot and generic names.
  if (n === 'privkey.pem') return { role: 'key', candidates: ['fullchain.pem', 'cert.pem'] };
  if (n === 'key.pem') return { role: 'key', candidates: ['cert.pem', 'fullchain.pem'] };
  if (n === 'cert.pem' || n === 'fullchain.pem') return { role: 'certificate', candidates: ['privkey.pem', 'key.pem'] };
  let m: RegExpExecArray | null;
  // Key-looking names first: `X.key.pem` must not be read as `X.pem` + `.key`.
  if ((m = /^(.+)\.key\.pem$/.exec(n))) return { role: 'key', candidates: [`${m[1]}.pem`, `${m[1]}.crt.pem`, `${m[1]}.crt`] };
  if ((m = /^(.+)-key\.pem$/.exec(n))) return { role: 'key', candidates: [`${m[1]}.pem`, `${m[1]}.crt`] };
  if ((m = /^(.+)\.key$/.exec(n))) return { role: 'key', candidates: [`${m[1]}.crt`, `${m[1]}.pem`, `${m[1]}.cer`] };
  if ((m = /^(.+)\.crt\.pem$/.exec(n))) return { role: 'certificate', candidates: [`${m[1]}.key.pem`, `${m[1]}.key`] };
  if ((m = /^(.+)\.(crt|cer)$/.exec(n))) return { role: 'certificate', candidates: [`${m[1]}.key`, `${m[1]}.key.pem`] };
  if ((m = /^(.+)\.pem$/.exec(n))) return { role: 'certificate', candidates: [`${m[1]}-key.pem`, `${m[1]}.key.pem`, `${m[1]}.key`] };
  return undefined;
}
