/**
 * commander, loaded with require(). It is CommonJS: an ESM `import` of it
 * makes Node lex its source for export names and wrap it in a module (3.8 ms
 * of CPU in a profile of `overseer --help` on Node 20; about 1 ms of wall
 * time end to end), which every command pays. The CLI imports commander only
 * from here.
 */
import { createRequire } from 'node:module';
import type * as Commander from 'commander';

const commander = createRequire(import.meta.url)('commander') as typeof Commander;

export const { Command, CommanderError } = commander;
export type Command = Commander.Command;
export type CommanderError = Commander.CommanderError;
