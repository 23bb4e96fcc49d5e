// Builds packages/client (the SDK published on its own) after the root build (`tsc -p tsconfig.build.json`).
// The JavaScript is the root build's dist/client, copied; the declarations are bundled from src/client with the
// contract's TypeBox types inlined, so the package's types are the server's own and it installs with no dependency.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const packageDir = join(root, 'packages/client');
const out = join(packageDir, 'dist');
const compiled = join(root, 'dist/client');
const entries = ['index', 'webhooks'];

/** What the declarations are made from: the SDK, the contract it takes its types from, and this build. */
function declarationInputs() {
  const files = [fileURLToPath(import.meta.url), join(packageDir, 'tsconfig.json'), join(root, 'tsconfig.json')];
  for (const folder of ['src/client', 'src/contract']) {
    for (const name of readdirSync(join(root, folder))) {
      if (name.endsWith('.ts') && !name.endsWith('.test.ts')) files.push(join(root, folder, name));
    }
  }
  files.push(join(root, 'src/errors.ts'), join(root, 'node_modules/@sinclair/typebox/package.json'));
  return files;
}

const mtime = (file) => statSync(file).mtimeMs;

/** Every module a file loads or references (static and dynamic imports, `/// <reference types>`), comments aside. */
function specifiers(source) {
  const { importedFiles, typeReferenceDirectives } = ts.preProcessFile(source, true, true);
  return [...importedFiles, ...typeReferenceDirectives].map((reference) => reference.fileName);
}

mkdirSync(out, { recursive: true });

// The JavaScript: every module of dist/client, without the source maps (they point into src/, which is not shipped).
const modules = readdirSync(compiled).filter((name) => name.endsWith('.js'));
for (const name of readdirSync(out)) {
  if (name.endsWith('.js') && !modules.includes(name)) rmSync(join(out, name));
}
for (const name of modules) {
  const source = readFileSync(join(compiled, name), 'utf8').replace(/\n\/\/# sourceMappingURL=.*\n?$/, '\n');
  for (const specifier of specifiers(source)) {
    const builtin = specifier.startsWith('node:') && builtinModules.includes(specifier.slice(5));
    const local = /^\.\/[\w-]+\.js$/.test(specifier) && modules.includes(specifier.slice(2));
    if (!builtin && !local) {
      throw new Error(
        `src/client/${name.replace(/\.js$/, '.ts')} imports ${specifier}: the client package may load only its own modules and node: builtins`,
      );
    }
  }
  writeFileSync(join(out, name), source);
}

// The declarations, bundled only when an input changed: bundling type-checks the contract and takes seconds.
const outputs = entries.map((entry) => join(out, `${entry}.d.ts`));
const fresh =
  outputs.every(existsSync) && Math.min(...outputs.map(mtime)) > Math.max(...declarationInputs().map(mtime));
if (!fresh) {
  const { generateDtsBundle } = await import('dts-bundle-generator');
  const bundles = generateDtsBundle(
    entries.map((entry) => ({
      filePath: join(root, `src/client/${entry}.ts`),
      libraries: { inlinedLibraries: ['@sinclair/typebox'] },
      output: { noBanner: true, exportReferencedTypes: false },
    })),
    { preferredConfigPath: join(packageDir, 'tsconfig.json') },
  );
  bundles.forEach((bundle, index) => {
    for (const specifier of specifiers(bundle)) {
      throw new Error(`${entries[index]}.d.ts still imports ${specifier}; inline it (libraries.inlinedLibraries)`);
    }
    writeFileSync(outputs[index], bundle);
  });
}
