#!/bin/sh
# The image's entrypoint: runs its command (`upwatch run` by default) as the unprivileged user
# `upwatch`, with the SQLite folder writable.
#
# Railway mounts volumes owned by root, so a non-root image cannot write to one; Railway's answer
# is the service variable RAILWAY_RUN_UID=0, which starts the container as root. Started as root,
# this script hands the data folder to `upwatch` and drops to it, so upwatch never runs as root.
# `exec` all the way down: upwatch is PID 1 and gets Railway's SIGTERM itself.
set -eu

data_dir="${UPWATCH_DATA_DIR:-/data}"

if [ "$(id -u)" = 0 ]; then
    if [ -d "$data_dir" ]; then
        chown -R upwatch:upwatch "$data_dir"
    fi
    exec setpriv --reuid=upwatch --regid=upwatch --init-groups -- "$@"
fi

case "${DATABASE_URL:-}" in
    "sqlite:///$data_dir"/*)
        if [ ! -w "$data_dir" ]; then
            echo "upwatch: cannot write the SQLite database in $data_dir (owned by root, as a" \
                "Railway volume is). Fix: set the service variable RAILWAY_RUN_UID=0; upwatch" \
                "still runs as user upwatch. See docs/deploy-railway.md." >&2
            exit 1
        fi
        ;;
esac

exec "$@"
