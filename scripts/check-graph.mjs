// Fails when a package's src imports a workspace package its row in scripts/graph.mjs does not allow, reaches
// into another package's files (`@cosignkit/x/src/…`, `../../other/…`), imports a workspace package it does
// not declare, or declares (dependencies, peerDependencies) one it may not import.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALLOWED_IMPORTS } from './graph.mjs';

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g;

function sourceFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    // Tests beside the code may use dev dependencies; the published code may not.
    else if (/\.(m|c)?tsx?$/.test(entry.name) && !/\.test\.(m|c)?tsx?$/.test(entry.name)) out.push(path);
  }
  return out;
}

/** The workspace package a bare specifier names, and whether it reaches past the package's entry points. */
function workspaceTarget(specifier, names) {
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  if (!names.has(name)) return undefined;
  const subpath = parts.slice(specifier.startsWith('@') ? 2 : 1).join('/');
  return { name, subpath };
}

/** Problems found in the workspace at `root` (its packages/* directories), one line each. */
export function checkGraph(root, allowed = ALLOWED_IMPORTS) {
  const problems = [];
  const packagesDir = join(root, 'packages');
  const packages = readdirSync(packagesDir)
    .filter((d) => statSync(join(packagesDir, d)).isDirectory())
    .map((d) => ({
      dir: join(packagesDir, d),
      manifest: JSON.parse(readFileSync(join(packagesDir, d, 'package.json'), 'utf8')),
    }));
  const names = new Set(packages.map((p) => p.manifest.name));
  for (const { dir, manifest } of packages) {
    const name = manifest.name;
    const rule = allowed[name];
    if (!rule) {
      problems.push(`${name}: no row in scripts/graph.mjs (say which workspace packages it may import)`);
      continue;
    }
    const declared = new Set([
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
    ]);
    for (const dep of declared) {
      if (names.has(dep) && !rule.includes(dep))
        problems.push(`${name}: package.json depends on ${dep}, which the graph does not allow`);
    }
    let src;
    try {
      src = sourceFiles(join(dir, 'src'));
    } catch {
      continue;
    }
    for (const file of src) {
      const text = readFileSync(file, 'utf8');
      const where = relative(root, file);
      for (const [, specifier] of text.matchAll(SPECIFIER)) {
        if (specifier.startsWith('.')) {
          const target = resolve(dirname(file), specifier);
          if (!(target + sep).startsWith(dir + sep))
            problems.push(`${where}: imports ${specifier}, outside its package`);
          continue;
        }
        const target = workspaceTarget(specifier, names);
        if (!target || target.name === name) continue;
        if (!rule.includes(target.name))
          problems.push(`${where}: imports ${target.name}, which the graph does not allow for ${name}`);
        else if (!declared.has(target.name))
          problems.push(`${where}: imports ${target.name}, not in ${name}'s dependencies or peerDependencies`);
        const targetManifest = packages.find((p) => p.manifest.name === target.name).manifest;
        const targetExports = new Set(
          Object.keys(targetManifest.exports ?? { '.': '' }).map((k) => k.replace(/^\.\/?/, '')),
        );
        if (target.subpath && !targetExports.has(target.subpath))
          problems.push(`${where}: imports ${specifier}, an internal file of ${target.name}`);
      }
    }
  }
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const problems = checkGraph(root);
  for (const p of problems) console.error(`check-graph: ${p}`);
  console.log(
    problems.length === 0 ? 'check-graph: the import graph holds' : `check-graph: ${problems.length} problem(s)`,
  );
  process.exit(problems.length === 0 ? 0 : 1);
}
