/** One HTTP GET over TCP or a unix socket, with what the tests look at. */
import http from 'node:http';

export interface Answer {
  readonly status: number;
  readonly version: string;
  /** The request went out on a kept-alive connection. */
  readonly reused: boolean;
  /** The response's Connection header. */
  readonly connection: string;
}

export function get(target: string | { socketPath: string }, agent: http.Agent | false = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const onResponse = (res: http.IncomingMessage) => {
      res.resume();
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          version: String(res.headers['x-version']),
          reused: req.reusedSocket,
          connection: String(res.headers.connection),
        }),
      );
    };
    const req = typeof target === 'string'
      ? http.get(target, { agent }, onResponse)
      : http.get({ socketPath: target.socketPath, path: '/', agent }, onResponse);
    req.on('error', reject);
  });
}

/** The version that answered; rejects on an error or a non-200 status. */
export async function getVersion(target: string | { socketPath: string }): Promise<string> {
  const answer = await get(target);
  if (answer.status !== 200) throw new Error(`status ${answer.status}`);
  return answer.version;
}
