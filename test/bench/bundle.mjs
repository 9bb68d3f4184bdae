// Bundles one benchmark under test/bench/ to out/bench/NAME.js (packages left external) and returns its path.
import * as esbuild from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function bundleBench(name) {
  const outfile = join(ROOT, 'out', 'bench', `${name}.js`);
  await esbuild.build({
    entryPoints: [join(ROOT, 'test', 'bench', `${name}.ts`)],
    outfile, bundle: true, platform: 'node', target: 'node20', format: 'cjs', packages: 'external', sourcemap: true, logLevel: 'warning',
  });
  return outfile;
}
