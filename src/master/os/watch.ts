/**
 * `--watch`: a change under the watched paths triggers one upgrade after the
 * writes have been quiet for `debounceMs`, so a deploy that writes many files
 * upgrades once. Upgrades already coalesce, the debounce only spares work.
 */
import { createRequire } from 'node:module';
import type * as Chokidar from 'chokidar';
import type { Clock } from '../../clock.js';

export function watchForChanges(
  paths: readonly string[],
  options: { debounceMs: number; clock: Clock; onChange: (path: string) => void; onReady?: () => void },
): () => Promise<void> {
  // Loaded only with --watch: a master without it does not carry chokidar.
  const { watch } = createRequire(import.meta.url)('chokidar') as typeof Chokidar;
  const watcher = watch([...paths], { ignoreInitial: true, ignored: /(^|[/\\])(node_modules|\.git)([/\\]|$)/ });
  if (options.onReady) watcher.once('ready', options.onReady);
  let cancel: (() => void) | undefined;
  let last = '';
  watcher.on('all', (_event, path) => {
    last = path;
    cancel?.();
    cancel = options.clock.setTimeout(() => {
      cancel = undefined;
      options.onChange(last);
    }, options.debounceMs);
  });
  return async () => {
    cancel?.();
    await watcher.close();
  };
}
