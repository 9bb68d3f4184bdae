// Bundles the x509-limbo benchmark and runs it with the current node.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackages } from '../tools/debian.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outfile = join(root, 'out', 'bench', 'limbo.js');
await esbuild.build({
  entryPoints: [join(root, 'test', 'bench', 'limbo.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
// The public-suffix wildcard cases need the system's Public Suffix List; without it they are counted as skipped.
ensureDebianPackages([['/usr/share/publicsuffix/public_suffix_list.dat', 'publicsuffix']]);
// The suite lives beside the project (../shared/conformance/), found from this script's location whatever the working directory.
const LIMBO = process.env.LIMBO ?? join(root, '..', 'shared', 'conformance', 'x509-limbo.json.gz');
const r = spawnSync(process.execPath, ['--enable-source-maps', outfile, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit', env: { ...process.env, LIMBO } });
process.exit(r.status ?? 1);
