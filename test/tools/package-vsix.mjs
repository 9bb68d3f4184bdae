// `npm run package`: production bundles, then a .vsix made by @vscode/vsce from the
// .vscodeignore whitelist, then its size against the budget. Works offline: vsce only
// reads the tree, and the runtime dependencies are already inside dist/ (esbuild).
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const ROOT = resolve(import.meta.dirname, '..', '..');

/**
 * The .vsix budget. Today's package is about 1.3 MB: two minified bundles (the
 * client carries ssh2 and the rotation engine, the language server the x509 engine;
 * the CLI's bundle ships with npm, not here), the icon and the README's pictures
 * (about half of it). 5 MB leaves room for a few more
 * pictures, but catches node_modules, source maps or a test folder slipping in
 * (any one of them is several MB), and stays a quick download for a user on a
 * slow link.
 */
export const BUDGET_BYTES = 5 * 1024 * 1024;

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`\`${[cmd, ...args].join(' ')}\` failed with ${r.status ?? r.signal}`);
}

const kb = (n) => `${(n / 1024).toFixed(0)} KB`;

/**
 * The entries of a zip file (name and uncompressed size) from its central directory.
 * @param {Buffer} zip
 * @returns {{name: string, size: number, compressed: number}[]}
 */
export function zipEntries(zip) {
  // End of central directory: the last "PK\5\6" within the 64 KiB comment window.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65_535); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new Error('not a zip file: no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const entries = [];
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`bad central directory entry ${n}`);
    const compressed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLen = zip.readUInt16LE(at + 28);
    const extraLen = zip.readUInt16LE(at + 30);
    const commentLen = zip.readUInt16LE(at + 32);
    entries.push({ name: zip.toString('utf8', at + 46, at + 46 + nameLen), size, compressed });
    at += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/**
 * Builds the production bundles and the .vsix, prints its size and biggest files.
 * @returns {{file: string, bytes: number, version: string, entries: {name: string, size: number, compressed: number}[]}}
 */
export function packageVsix({ log = console.log } = {}) {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const file = join(ROOT, `${pkg.name}-${pkg.version}.vsix`);
  run(process.execPath, ['esbuild.mjs', '--production']);
  // --no-dependencies: esbuild already bundled them. --no-rewrite-relative-links: the README's
  // pictures are in the package (media/), so the installed extension's page shows them offline
  // instead of pointing at the repository's placeholder address.
  run(process.execPath, [join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--no-dependencies', '--no-rewrite-relative-links', '--out', file]);
  const bytes = statSync(file).size;
  const entries = zipEntries(readFileSync(file));
  const unexpected = entries.filter((e) => !/^(\[Content_Types\]\.xml|extension\.vsixmanifest|extension\/(package\.json|readme\.md|changelog\.md|LICENSE(\.txt)?|dist\/[^/]+|media\/.+|syntaxes\/.+))$/i.test(e.name));
  log(`${relative(process.cwd(), file) || file}: ${kb(bytes)} (budget ${kb(BUDGET_BYTES)}), ${entries.length} files`);
  for (const e of [...entries].sort((a, b) => b.compressed - a.compressed).slice(0, 8)) {
    log(`  ${kb(e.compressed).padStart(7)} in the .vsix  ${kb(e.size).padStart(7)} unpacked  ${e.name}`);
  }
  if (unexpected.length) throw new Error(`the .vsix holds files outside the whitelist: ${unexpected.map((e) => e.name).join(', ')}`);
  if (bytes > BUDGET_BYTES) throw new Error(`the .vsix is ${kb(bytes)}, over its budget of ${kb(BUDGET_BYTES)}`);
  return { file, bytes, version: pkg.version, entries };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    packageVsix();
  } catch (e) {
    console.error(`package: ${e.message}`);
    process.exit(1);
  }
}
