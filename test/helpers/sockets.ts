/** What the kernel says about sockets (Linux /proc), for tests that check which socket serves a port. */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** fd → socket inode, for every socket `pid` has open. */
export function socketInodes(pid: number): Map<number, string> {
  const found = new Map<number, string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode) found.set(Number(fd), inode);
    } catch {
      // closed meanwhile
    }
  }
  return found;
}

/** The inodes of the IPv4 TCP sockets listening on `port` on this host. */
export function listeningOn(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1).flatMap((line) => {
    const f = line.trim().split(/\s+/); // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
    return f[1]?.endsWith(`:${hexPort}`) && f[3] === '0A' ? [f[9]!] : [];
  });
}
