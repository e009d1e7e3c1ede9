/** Whether a process exists (shared by the master's PID file and `overseer stop`). */
import { systemCode } from './errors.js';

/** Is there a process with this pid (ours to signal or not)? */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return systemCode(error) === 'EPERM';
  }
}
