/**
 * `--user` / `--group` → numeric uid / gid for the workers. Names are looked
 * up with `id(1)`, which asks the system's NSS (local files, LDAP, sssd…),
 * as the workers' own `getpwnam` would; Node has no API for it.
 */
import { ConfigError } from '../../errors.js';

/**
 * node:child_process, required only when a name is looked up: the options
 * pipeline also runs to refuse bad input in `overseer start`, which should
 * not pay for loading it (src/cli/start.ts).
 */
const childProcess = () => process.getBuiltinModule('node:child_process');

export interface Identity {
  readonly uid: number | undefined;
  readonly gid: number | undefined;
}

function lookup(flag: '-u' | '-g', name: string): number | undefined {
  try {
    const out = childProcess().execFileSync('id', [flag, '--', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const n = Number(out.trim());
    return Number.isSafeInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

function groupId(name: string): number | undefined {
  try {
    const out = childProcess().execFileSync('getent', ['group', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const n = Number(out.split(':')[2]);
    return Number.isSafeInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

const numeric = (text: string) => (/^\d+$/.test(text) ? Number(text) : undefined);

/**
 * Resolve the identity workers run as. With `--user` alone, the group is the
 * user's primary group. Switching identity needs root: a master that is not
 * root may only name itself.
 */
export function resolveIdentity(user: string | undefined, group: string | undefined): Identity {
  if (user === undefined && group === undefined) return { uid: undefined, gid: undefined };
  let uid: number | undefined;
  let gid: number | undefined;
  if (user !== undefined) {
    uid = numeric(user) ?? lookup('-u', user);
    if (uid === undefined) throw new ConfigError(`--user: no such user \`${user}\``);
    gid = numeric(user) === undefined ? lookup('-g', user) : undefined;
  }
  if (group !== undefined) {
    gid = numeric(group) ?? groupId(group);
    if (gid === undefined) throw new ConfigError(`--group: no such group \`${group}\``);
  }
  const myUid = process.getuid?.();
  if (myUid !== undefined && myUid !== 0) {
    if (uid !== undefined && uid !== myUid) {
      throw new ConfigError(`--user \`${user}\` needs the master to run as root (it runs as uid ${myUid})`);
    }
    if (gid !== undefined && gid !== process.getgid?.()) {
      throw new ConfigError(`--group \`${group ?? user}\` needs the master to run as root (it runs as uid ${myUid})`);
    }
  }
  return { uid, gid };
}
