import { readdirSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { closeFd, NativeError, openPipe, openSignalfd } from '../../src/native/libc.js';

const fds = () => readdirSync('/proc/self/fd').length;

describe('libc through koffi', () => {
  it('pipe2 opens two pipe fds and close releases them', () => {
    const before = fds();
    const [r, w] = openPipe();
    expect(fds()).toBe(before + 2);
    expect(readlinkSync(`/proc/self/fd/${r}`)).toMatch(/^pipe:/);
    expect(readlinkSync(`/proc/self/fd/${w}`)).toBe(readlinkSync(`/proc/self/fd/${r}`));
    closeFd(r);
    closeFd(w);
    expect(fds()).toBe(before);
  });

  it('signalfd opens one signalfd', () => {
    const fd = openSignalfd([1]);
    expect(readlinkSync(`/proc/self/fd/${fd}`)).toBe('anon_inode:[signalfd]');
    closeFd(fd);
  });

  it('maps errno to its code and libc message', () => {
    const error = (() => {
      try {
        closeFd(1_000_000);
      } catch (e) {
        return e;
      }
    })() as NativeError;
    expect(error).toBeInstanceOf(NativeError);
    expect(error.code).toBe('EBADF');
    expect(error.message).toBe('close: EBADF (Bad file descriptor)');
  });

  it('reports EMFILE with its message when the limit is reached (in a child under ulimit -n 40)', async () => {
    const script = `
      import { openPipe } from ${JSON.stringify(fileURLToPath(new URL('../../dist/native/libc.js', import.meta.url)))};
      try { for (;;) openPipe(); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
    const { stdout } = await execa('sh', ['-c', 'ulimit -n 40 && exec "$0" --input-type=module -e "$1"', process.execPath, script]);
    expect(JSON.parse(stdout)).toEqual({ code: 'EMFILE', message: 'pipe2: EMFILE (Too many open files)' });
  });
});
