// Bundles the decoder benchmark and runs it with the current node (extra node flags such as --cpu-prof pass through).
import { spawnSync } from 'node:child_process';
import { bundleBench, ROOT as root } from './bundle.mjs';

const outfile = await bundleBench('decode');
const r = spawnSync(process.execPath, [...process.argv.slice(2), outfile], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
