#!/bin/bash
# The Quick start on a fresh Debian 12, proven: `make fresh-check` (root; several minutes).
#
# 1. A bare Debian 12 root (debootstrap bookworm, minbase variant) in a folder. The finished root is kept
#    as a tarball in the cache dir, so a rerun unpacks it instead of bootstrapping again.
# 2. This checkout's working tree (tracked and untracked files that git does not ignore) is copied to
#    /root/workflow in it.
# 3. In a network namespace of its own (a veth pair, NAT to the outside world: apt, PyPI and npm reachable,
#    none of this host's listeners and sandboxes in the way) and a mount and pid namespace of its own, the
#    root gets /proc, /sys (with this host's cgroups), /dev, /dev/pts and /run (tmpfs) and becomes / (with
#    pivot_root: like chroot, but user namespaces work in it as on a machine); then, as root with an empty
#    environment:
#      apt-get install make            the Quick start's one prerequisite
#      make up                         the Quick start
#      the README's first deploy       register, keys:add, create, git push of a Flask app
#                                      (requirements.txt + Procfile), and its answer through the router
#      deis-platform down
# Whatever happens, everything is unmounted (the namespaces end with the run), the network is removed and
# the root is deleted (FRESH_KEEP=1 keeps it).
#
# Settings (environment): FRESH_CACHE (default <checkout>/.cache/fresh-check), FRESH_ROOT (default a new
# directory under /var/tmp), FRESH_MIRROR (default http://deb.debian.org/debian), FRESH_VARIANT (minbase),
# FRESH_REFRESH=1 (bootstrap again, ignoring the cached root), FRESH_KEEP=1.
set -euo pipefail

SUITE=bookworm
APP=myapp
NETNS=deis-fresh-check
HOST_IF=dfresh0
HOST_ADDR=10.214.0.1
INSIDE_ADDR=10.214.0.2
NAT_TABLE=deis_fresh_check
# Where a machine behind a TLS-intercepting proxy points its tools at the CA bundle that trusts the proxy
# (uv and Node.js carry their own roots otherwise). Passed into the root when this host sets them.
CA_VARIABLES="SSL_CERT_FILE SSL_CERT_DIR NODE_EXTRA_CA_CERTS REQUESTS_CA_BUNDLE PIP_CERT CURL_CA_BUNDLE GIT_SSL_CAINFO"
ROOT=""

say() { printf '\n==> %s\n' "$*"; }

# Runs "$@" as a named step and records how long it took.
STEPS=()
step() {
    local name=$1 start=$SECONDS
    shift
    say "$name"
    "$@"
    STEPS+=("$(printf '%5ds  %s' $((SECONDS - start)) "$name")")
}

summary() {
    say "timings"
    printf '%s\n' "${STEPS[@]}"
}

# --- inside the chrooted fresh root ------------------------------------------------------------------
inside() {
    export HOME=/root LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    export DEBIAN_FRONTEND=noninteractive
    cd /root/workflow
    trap summary EXIT
    step "prerequisite: apt-get install make" prerequisite
    step "make up" make up
    step "first deploy (register, keys:add, create, git push)" first_deploy
    step "the app answers through the router" app_answers
    step "deis-platform down" /root/workflow/.venv/bin/deis-platform down
}

prerequisite() {
    apt-get update -qq
    apt-get install -y -qq make >/dev/null
}

first_deploy() {
    # shellcheck disable=SC1091
    source /root/workflow/.venv/bin/activate
    deis register http://127.0.0.1:8000 --username=ada --password=fresh-check-pw --email=ada@example.com
    mkdir -p ~/.ssh
    ssh-keygen -q -t ed25519 -N "" -f ~/.ssh/id_ed25519
    deis keys:add ~/.ssh/id_ed25519.pub
    cp -r /root/workflow/tests/e2e/apps/python-web /root/my-flask-app
    cd /root/my-flask-app
    git init -q -b main
    git add .
    git -c user.name=Ada -c user.email=ada@example.com commit -q -m "my flask app"
    deis create "$APP"
    # what a user answers "yes" to on the first connection
    GIT_SSH_COMMAND="ssh -o StrictHostKeyChecking=accept-new" git push deis main
}

app_answers() {
    # `curl http://myapp.localhost:<router port>`: curl resolves *.localhost to loopback; Python does not,
    # so the request names the host in its header, as curl's does.
    /root/workflow/.venv/bin/python - "$APP" <<'PY'
import json
import sys
import time
import urllib.request

app = sys.argv[1]
port = json.load(open("/root/.deis-platform/platform.json"))["ports"]["router_http"]
request = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Host": f"{app}.localhost"})
for attempt in range(30):
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read().decode()
    except OSError as e:
        body = f"({e})"
    if body.startswith(f"Hello world from {app} v"):
        print(f"curl http://{app}.localhost:{port}  ->  {body.strip()}")
        sys.exit(0)
    time.sleep(1)
sys.exit(f"the app did not answer through the router on :{port}: {body}")
PY
}

# --- in the check's own namespaces, before the chroot ------------------------------------------------
mounted() {
    local root=$1
    # Unmounts what was mounted when a mount fails (the mount namespace drops everything when it ends).
    # shellcheck disable=SC2064
    trap "umount -R '$root' 2>/dev/null || true" EXIT
    # On a machine, / is a mount point (`ip netns exec` and bwrap make it a slave mount); here too.
    mount --bind "$root" "$root"
    mount -t proc proc "$root/proc"
    mount -t sysfs sysfs "$root/sys"  # mounted from the check's network namespace: its own interfaces
    mount --rbind /sys/fs/cgroup "$root/sys/fs/cgroup"
    mount --rbind /dev "$root/dev"
    mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$root/run"
    # an empty environment, but for the CA bundle settings of a machine behind an intercepting proxy
    local env=(TERM=dumb) name
    for name in $CA_VARIABLES; do
        if [ -n "${!name:-}" ]; then env+=("$name=${!name}"); fi
    done
    # The root becomes / of this mount namespace, as chroot would, with this host's tree detached: a
    # process in a chroot may not make user namespaces (the kernel refuses), which bwrap and rootless
    # buildah do on a machine.
    trap - EXIT
    cd "$root"
    pivot_root . .
    umount -l .
    cd /
    exec /usr/bin/env -i "${env[@]}" /bin/bash /root/workflow/deploy/local/fresh-check.sh inside
}

# --- on the host ---------------------------------------------------------------------------------------
bootstrap() {
    local root=$1 tarball=$2 variant=$3 mirror=$4
    if [ -s "$tarball" ] && [ "${FRESH_REFRESH:-0}" != 1 ]; then
        echo "unpacking the cached $SUITE root ($tarball)"
    else
        local work
        work=$(mktemp -d /var/tmp/deis-fresh-bootstrap.XXXXXX)
        chmod 0755 "$work"  # it becomes /
        # its own mount namespace: the mounts debootstrap makes go away with it, even when it fails
        if ! unshare --mount --propagation private \
            debootstrap --variant="$variant" "$SUITE" "$work" "$mirror"; then
            rm -rf "$work"
            return 1
        fi
        # sources as a fresh Debian 12 install has them: with updates and security updates
        cat >"$work/etc/apt/sources.list" <<EOF
deb $mirror $SUITE main
deb $mirror $SUITE-updates main
deb http://deb.debian.org/debian-security $SUITE-security main
EOF
        rm -rf "$work"/var/cache/apt/archives/*.deb "$work"/var/lib/apt/lists/*
        mkdir -p "$(dirname "$tarball")"
        tar --numeric-owner --xattrs -C "$work" -cf "$tarball.new" .
        mv "$tarball.new" "$tarball"
        rm -rf "$work"
    fi
    tar --numeric-owner --xattrs -C "$root" -xf "$tarball"
    chmod 0755 "$root"  # / as on a machine (mktemp made it 0700)
}

# This host's own trust: the certificates of its CA bundle that Debian's ca-certificates does not ship (an
# intercepting proxy's CA), as local CAs of the root, where its admin would have put them. Debian's
# ca-certificates adds them to the root's bundle when `make up` installs or updates it.
copy_local_cas() {
    local root=$1 bundle=/etc/ssl/certs/ca-certificates.crt target=$1/usr/local/share/ca-certificates
    [ -f "$bundle" ] || return 0
    mkdir -p "$target"
    python3 - "$bundle" "$target" <<'PY'
import pathlib
import re
import sys

PEM = re.compile(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", re.S)
shipped = set()
for crt in pathlib.Path("/usr/share/ca-certificates").rglob("*.crt"):
    shipped.update(PEM.findall(crt.read_text(errors="replace")))
local = [c for c in PEM.findall(pathlib.Path(sys.argv[1]).read_text()) if c not in shipped]
for n, cert in enumerate(local):
    pathlib.Path(sys.argv[2], f"host-local-{n}.crt").write_text(cert + "\n")
print(f"{len(local)} local CA certificate(s) of this host")
PY
    if [ -x "$root/usr/sbin/update-ca-certificates" ]; then
        chroot "$root" update-ca-certificates >/dev/null
    fi
}

copy_checkout() {
    local repo=$1 target=$2
    mkdir -p "$target"
    # the working tree as git sees it: tracked files (with their uncommitted changes) and untracked ones
    # that are not ignored; not .venv, caches or platform data
    (cd "$repo" && git ls-files -z --cached --others --exclude-standard \
        | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
        | tar --null -T - -cf -) | tar -C "$target" -xf - --no-same-owner
    echo "$(find "$target" -type f | wc -l) files in /root/workflow"
}

network_up() {
    ip netns add "$NETNS"
    ip link add "$HOST_IF" type veth peer name eth0 netns "$NETNS"
    ip addr add "$HOST_ADDR/30" dev "$HOST_IF"
    ip link set "$HOST_IF" up
    ip -n "$NETNS" addr add "$INSIDE_ADDR/30" dev eth0
    ip -n "$NETNS" link set lo up
    ip -n "$NETNS" link set eth0 up
    ip -n "$NETNS" route add default via "$HOST_ADDR"
    echo 1 >/proc/sys/net/ipv4/ip_forward
    nft -f - <<EOF
add table ip $NAT_TABLE
add chain ip $NAT_TABLE postrouting { type nat hook postrouting priority srcnat; policy accept; }
add rule ip $NAT_TABLE postrouting ip saddr $INSIDE_ADDR oifname != "$HOST_IF" masquerade
EOF
}

network_down() {
    ip netns del "$NETNS" 2>/dev/null || true  # takes the veth pair with it
    ip link del "$HOST_IF" 2>/dev/null || true
    nft delete table ip "$NAT_TABLE" 2>/dev/null || true
}

main() {
    if [ "$(id -u)" != 0 ]; then
        echo "fresh-check needs root (debootstrap, chroot, mounts, a network namespace)" >&2
        exit 1
    fi
    for tool in debootstrap ip nft unshare nsenter chroot; do
        command -v "$tool" >/dev/null || { echo "fresh-check needs $tool" >&2; exit 1; }
    done
    local repo cache variant mirror status=0
    repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    cache=${FRESH_CACHE:-$repo/.cache/fresh-check}
    variant=${FRESH_VARIANT:-minbase}
    mirror=${FRESH_MIRROR:-http://deb.debian.org/debian}
    ROOT=${FRESH_ROOT:-$(mktemp -d /var/tmp/deis-fresh-root.XXXXXX)}
    mkdir -p "$ROOT"
    local root=$ROOT
    local started=$SECONDS

    cleanup() {
        network_down
        if findmnt -rn -o TARGET | grep -q "^$ROOT"; then
            echo "still mounted under $ROOT:" >&2
            findmnt -rn -o TARGET | grep "^$ROOT" >&2
        elif [ "${FRESH_KEEP:-0}" = 1 ]; then
            echo "the root is kept at $ROOT"
        else
            rm -rf --one-file-system "$ROOT"
        fi
    }
    trap cleanup EXIT
    network_down  # leftovers of an interrupted run

    step "debootstrap $SUITE ($variant) into $root" \
        bootstrap "$root" "$cache/debian-$SUITE-$variant.tar" "$variant" "$mirror"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
    step "this host's local CA certificates" copy_local_cas "$root"
    step "copy the checkout's working tree" copy_checkout "$repo" "$root/root/workflow"
    step "network namespace $NETNS (NAT to the outside world)" network_up
    say "in the fresh root"
    nsenter --net="/run/netns/$NETNS" unshare --mount --pid --fork --propagation private -- \
        /bin/bash "${BASH_SOURCE[0]}" mounted "$root" || status=$?
    say "fresh-check: $([ "$status" = 0 ] && echo PASSED || echo "FAILED (exit $status)") in $((SECONDS - started))s"
    summary
    return "$status"
}

case "${1:-}" in
    inside) inside ;;
    mounted) mounted "$2" ;;
    *) main ;;
esac
