/**
 * `--metrics` through the options pipeline: the TCP forms of `--listen`, off
 * when absent, and refused (naming both values) when it would be one of the
 * app's addresses, with the overlap rules of two `--listen` values.
 */
import { describe, expect, it } from 'vitest';
import { parseStartOptions } from '../../../../src/master/options/options.js';

const parse = (metrics: string | undefined, listen: string[] = ['127.0.0.1:3000']) => parseStartOptions({ script: 'app.js', listen, metrics, cwd: '/srv' }).metrics;

describe('--metrics', () => {
  it('is off by default and takes the TCP forms of --listen', () => {
    expect(parse(undefined)).toBeUndefined();
    expect(parse('9464')).toEqual({ kind: 'tcp', host: undefined, port: 9464 });
    expect(parse('127.0.0.1:9464')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 9464 });
    expect(parse('[::1]:9464')).toEqual({ kind: 'tcp', host: '::1', port: 9464 });
    expect(parse('127.0.0.1:0', ['127.0.0.1:0'])).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 0 }); // port 0 never repeats
    expect(parse('[::1]:3000')).toEqual({ kind: 'tcp', host: '::1', port: 3000 }); // another IP on the app's port: distinct
  });

  it('names the option and the value when refusing', () => {
    expect(() => parse('nope')).toThrow('--metrics must be PORT, HOST:PORT, [IPv6]:PORT or unix:PATH, got `nope`');
    expect(() => parse('1.2.3.4:70000')).toThrow('--metrics has an invalid port in `1.2.3.4:70000` (expected 0-65535)');
    expect(() => parse('unix:/run/m.sock')).toThrow('--metrics must be PORT, HOST:PORT or [IPv6]:PORT (Prometheus scrapes over TCP), got `unix:/run/m.sock`');
  });

  it('refuses an address of the app\'s, or one that overlaps it', () => {
    expect(() => parse('127.0.0.1:3000')).toThrow('--metrics `127.0.0.1:3000` and --listen `127.0.0.1:3000` are the same address');
    expect(() => parse('3000')).toThrow('--metrics `3000` and --listen `127.0.0.1:3000` both use port 3000');
    expect(() => parse('localhost:8080', ['unix:/run/app.sock', '8080'])).toThrow('and --listen `8080`');
  });
});
