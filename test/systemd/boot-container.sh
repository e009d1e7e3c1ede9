#!/bin/sh
# boot-container.sh <cgroup> <nspawn> [nspawn options…] [systemd's arguments…]
#
# Boots the host's own root, read-only, as a systemd container, for hosts
# whose PID 1 is not systemd (there is no manager to give nspawn a cgroup).
# In this order, because each step must be in place before the next starts:
#   1. this shell moves into <cgroup>, a cgroup of its own in every hierarchy
#      systemd uses, so the container's systemd owns that subtree and never
#      the host's root cgroup (and the test can see what is left in it);
#   2. a private mount namespace, where a tmpfs covers /run (nspawn keeps
#      its state in /run/systemd/nspawn; none of it reaches the host) and the
#      host's / is the lower layer of an overlay whose upper layer is on that
#      tmpfs: the container may write anywhere, the host sees nothing;
#   3. exec systemd-nspawn on that overlay (nspawn refuses --directory=/ with
#      --volatile=overlay, hence our own). The pid the caller got is nspawn's.
set -eu
cgroup=$1 nspawn=$2
shift 2

for hierarchy in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified /sys/fs/cgroup; do
  case $(stat -fc %T "$hierarchy" 2>/dev/null) in
    cgroupfs | cgroup2fs)
      mkdir -p "$hierarchy/$cgroup"
      echo $$ > "$hierarchy/$cgroup/cgroup.procs"
      ;;
  esac
done

exec unshare --mount --propagation private /bin/sh -eu -c '
  mount -t tmpfs -o mode=0755 tmpfs /run
  mkdir /run/layer /run/work /run/root
  mount -t overlay overlay -o lowerdir=/,upperdir=/run/layer,workdir=/run/work /run/root
  nspawn=$1
  shift
  exec "$nspawn" --directory=/run/root "$@"
' boot-container "$nspawn" "$@"
