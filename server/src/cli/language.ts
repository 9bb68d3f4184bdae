// The language VS Code would give a file, so the CLI analyses it as the editor does (PEM, or PEM embedded in YAML, JSON, .env, text).
import { basename, extname } from 'node:path';

/** The extensions of package.json's `pem` language (`contributes.languages`); a unit test keeps them in step. */
export const PEM_EXTENSIONS: readonly string[] = ['.pem', '.crt', '.cer', '.key', '.csr', '.crl', '.chain', '.ca-bundle'];
/** The `pem` language's filename patterns, as regular expressions. */
const PEM_PATTERNS = [/\.pem\./i, /\.crt\./i, /\.key\./i, /-chain\.txt$/i];
const PEM_FIRST_LINE = /^-----BEGIN [A-Z0-9 ]+-----/;

// VS Code's built-in languages that embedded detection covers.
const BY_EXTENSION: Record<string, string> = { '.yaml': 'yaml', '.yml': 'yaml', '.json': 'json', '.jsonc': 'jsonc', '.env': 'dotenv', '.txt': 'plaintext' };

/**
 * The language id of `path` whose text is `text`: by extension and filename
 * pattern first (as VS Code decides), then a PEM first line, else plain text,
 * which is still searched for PEM, escaped PEM and base64 PEM.
 */
export function languageOfFile(path: string, text: string): string {
  const name = basename(path);
  const ext = extname(name).toLowerCase();
  if (PEM_EXTENSIONS.includes(ext) || PEM_PATTERNS.some((p) => p.test(name))) return 'pem';
  if (Object.hasOwn(BY_EXTENSION, ext)) return BY_EXTENSION[ext];
  if (name === '.env' || name.startsWith('.env.')) return 'dotenv';
  if (PEM_FIRST_LINE.test(text.slice(0, 200))) return 'pem';
  return 'plaintext';
}
