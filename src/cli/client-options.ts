/** Options shared by the commands that talk to a running master (upgrade, status, stop). */
import { Command } from './commander.js';
import type { ControlLocation } from './control-client.js';
import { logicalCwd } from '../cwd.js';

export interface ClientOptions {
  name: string;
  control?: string;
  pidFile?: string;
  json: boolean;
  timeout?: string;
}

export function addClientOptions(command: Command, timeoutHelp: string): Command {
  return command
    .option('--name <name>', 'the master\'s --name', 'overseer')
    .option('--control <path>', 'the master\'s control socket (default: found from --name in the directories the master chooses from)')
    .option('--pid-file <path>', 'the master\'s --pid-file: reach the master started with it, wherever its control socket is')
    .option('--json', 'print the answer as one JSON object', false)
    .option('--timeout <ms>', timeoutHelp);
}

export function locate(options: ClientOptions): ControlLocation {
  return { control: options.control, name: options.name, pidFile: options.pidFile, cwd: logicalCwd(), env: process.env };
}
