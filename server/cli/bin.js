#!/usr/bin/env node
// The `enot-id` command. The CLI is TypeScript, which Node runs directly from 24 on;
// an older `node` first in PATH would otherwise fail with a puzzling error.
if (Number(process.versions.node.split('.')[0]) < 24) {
  process.stderr.write(`enot-id: needs Node.js 24 or newer, this is ${process.version}\n`);
  process.exit(1);
}
// Compiled code cached on disk (server/main.ts says why); before the CLI's modules load.
(await import('node:module')).enableCompileCache?.();
await import('./main.ts');
