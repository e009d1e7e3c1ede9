import { describe, expect, it } from 'vitest';
import { formatSize, parseSize } from '../../../../src/master/health/size.js';

describe('parseSize', () => {
  it('reads bytes and binary units, with decimals, B or iB, any case', () => {
    expect(parseSize('1048576')).toBe(1024 ** 2);
    expect(parseSize('512M')).toBe(512 * 1024 ** 2);
    expect(parseSize('512mb')).toBe(512 * 1024 ** 2);
    expect(parseSize('512MiB')).toBe(512 * 1024 ** 2);
    expect(parseSize('1G')).toBe(1024 ** 3);
    expect(parseSize('1.5G')).toBe(1.5 * 1024 ** 3);
    expect(parseSize('64k')).toBe(65_536);
    expect(parseSize(' 2T ')).toBe(2 * 1024 ** 4);
    expect(parseSize('0')).toBe(0);
  });

  it('refuses anything else', () => {
    for (const bad of ['', 'M', '-1G', '1X', '1 GB extra', '1e9', '0x10', '1,5G', 'Infinity', '1.G', `${'9'.repeat(30)}T`]) {
      expect(parseSize(bad), bad).toBeUndefined();
    }
  });

  it('formats sizes for people', () => {
    expect(formatSize(512 * 1024 ** 2)).toBe('512 MiB');
    expect(formatSize(1.5 * 1024 ** 3)).toBe('1.5 GiB');
    expect(formatSize(100)).toBe('100 B');
  });
});
