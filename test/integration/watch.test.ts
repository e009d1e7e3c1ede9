/** `--watch`: rewriting the script upgrades, once per burst of writes. */
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { appSource, makeApp } from '../helpers/app.js';
import { baseArgs, startMaster } from '../helpers/master.js';

describe('--watch', () => {
  it('upgrades when the script changes, once for a burst of writes', async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--watch', '--watch-debounce', '200'));
    await master.waitFor('master.ready');
    await master.waitFor('watch.ready');
    for (const version of ['v2-draft', 'v2-draft2', 'v2']) writeFileSync(app.script, appSource(version));
    const done = await master.upgraded();
    const res = await fetch(await master.url(), { headers: { connection: 'close' } });
    expect(res.headers.get('x-version')).toBe('v2');
    expect(done.generation).toBe(2);
    expect(master.count('upgrade.started')).toBe(1);
    expect(master.events.find((e) => e.event === 'upgrade.started')?.trigger).toMatch(/^change: /);
  });
});
