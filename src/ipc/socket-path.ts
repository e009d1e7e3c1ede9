/**
 * Unix socket paths must fit `sockaddr_un.sun_path`: 108 bytes on Linux,
 * 104 on macOS and the BSDs, including the terminating NUL. Node truncates a
 * longer path silently, so the socket would appear somewhere else; every
 * path overseer binds or connects to is checked here first.
 */
export const MAX_SOCKET_PATH_BYTES = process.platform === 'linux' ? 107 : 103;

/** `undefined` when the path fits; otherwise a sentence saying why it does not. */
export function socketPathProblem(path: string): string | undefined {
  const bytes = Buffer.byteLength(path);
  if (bytes <= MAX_SOCKET_PATH_BYTES) return undefined;
  return `is ${bytes} bytes long, over the ${MAX_SOCKET_PATH_BYTES}-byte limit for unix socket paths on this OS`;
}
