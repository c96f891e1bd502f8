/**
 * A real pruned network with its certificate, and a real slice family, made once per run by the CLI itself (the
 * tampered-certificate cases edit copies of them). The prune is the README's main job; the family has 4 slices.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from '../helpers/run-cli.ts';

export const PRUNE_DOMAIN = '0,0,0,0,0:1,1,1,1,1';

export interface Artifacts {
  /** p.json and p.json.certificate.json (the certificate names p.json relative to itself) */
  pruned: string;
  certificate: string;
  /** the family directory's files by name */
  family: Record<string, string>;
}

function run(argv: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...argv], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`nnshrink ${argv.join(' ')}: exit ${code}: ${err.slice(0, 500)}`))));
  });
}

export async function makeArtifacts(): Promise<Artifacts> {
  const dir = mkdtempSync(join(tmpdir(), 'nnshrink-fuzz-art-'));
  try {
    await Promise.all([
      run(['prune', '--default', '--domain', PRUNE_DOMAIN, '-o', 'p.json'], dir),
      run(['slice', '--default', '--max-slices', '4', '-o', 'fam'], dir),
    ]);
    const family: Record<string, string> = {};
    for (const f of readdirSync(join(dir, 'fam'))) family[f] = readFileSync(join(dir, 'fam', f), 'utf8');
    return {
      pruned: readFileSync(join(dir, 'p.json'), 'utf8'),
      certificate: readFileSync(join(dir, 'p.json.certificate.json'), 'utf8'),
      family,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
