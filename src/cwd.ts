/** The working directory as the user sees it (shared by the master's options and the CLI clients). */
import { isAbsolute } from 'node:path';

const { realpathSync } = process.getBuiltinModule('node:fs');

/** The shell's logical cwd when it names the same directory as the real one. */
export function logicalCwd(): string {
  const pwd = process.env.PWD;
  const real = process.cwd();
  if (pwd && isAbsolute(pwd)) {
    try {
      if (realpathSync(pwd) === real) return pwd;
    } catch {
      // PWD is stale; fall back to the real cwd
    }
  }
  return real;
}
