// Bundles the decoder benchmark and runs it with the current node (extra node flags such as --cpu-prof pass through).
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outfile = join(root, 'out', 'bench', 'decode.js');
await esbuild.build({
  entryPoints: [join(root, 'test', 'bench', 'decode.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
const r = spawnSync(process.execPath, [...process.argv.slice(2), outfile], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
