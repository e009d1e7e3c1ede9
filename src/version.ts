const { readFileSync } = process.getBuiltinModule('node:fs');

/** overseer's own version, from package.json (shared by the CLI and the master's status). */
let cached: string | undefined;

export function overseerVersion(): string {
  cached ??= (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cached;
}
