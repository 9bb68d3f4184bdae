// Bundles the x509-limbo benchmark and runs it with the current node.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
// The suite lives beside the project (../shared/conformance/), found from this script's location whatever the working directory.
const LIMBO = process.env.LIMBO ?? join(root, '..', 'shared', 'conformance', 'x509-limbo.json.gz');
const r = spawnSync(process.execPath, ['--enable-source-maps', outfile, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit', env: { ...process.env, LIMBO } });
process.exit(r.status ?? 1);
