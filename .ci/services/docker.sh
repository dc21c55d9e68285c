# Docker engine + base image for the image builders' tests (sourced by .ci/run).
#
# Starts a private dockerd (overlay2, or vfs where overlays cannot be mounted; no iptables, no bridge) unless one already answers on its socket,
# imports a Debian bookworm base image with python3 + python3-venv (made once with debootstrap, cached as
# a tarball), and exports what the tests read:
#   DOCKER_HOST              the engine's socket
#   PACK_TEST_BASE_IMAGE     the base image name to pass as --base-image
# Anything that fails here only leaves the variables unset: the Docker tests then skip with the reason.

pack_docker_service() {
  local cache="${PACK_CI_CACHE:-$HOME/.cache/pack-ci}"
  local home="$cache/dockerd"
  local sock="$home/docker.sock"
  local image="pack-ci/bookworm-python:2"
  local tarball="$cache/docker/bookworm-minbase-python3.tar"
  mkdir -p "$home" "$cache/docker"

  if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
    echo "installing docker.io and debootstrap"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap >/dev/null \
      || { echo "docker: cannot install docker.io/debootstrap"; return 0; }
  fi

  if ! DOCKER_HOST="unix://$sock" docker version >/dev/null 2>&1; then
    # overlay2 where the kernel lets us mount overlays (much faster), else vfs (works everywhere).
    local driver started=""
    for driver in overlay2 vfs; do
      echo "starting dockerd ($driver) on $sock"
      rm -f "$sock" "$home/docker.pid"
      # exec-root is kept short: it holds unix sockets, whose paths are limited to ~100 bytes.
      setsid dockerd --storage-driver="$driver" --iptables=false --ip6tables=false --bridge=none \
        --data-root "$home/data-$driver" --exec-root /run/pack-ci-docker --pidfile "$home/docker.pid" \
        --host "unix://$sock" >"$home/dockerd-$driver.log" 2>&1 < /dev/null &
      local pid=$! waited=0
      while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 60 ]; do
        if DOCKER_HOST="unix://$sock" docker version >/dev/null 2>&1; then
          started=$driver
          break
        fi
        sleep 0.5
        waited=$((waited + 1))
      done
      [ -n "$started" ] && break
      kill "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
    done
    if [ -z "$started" ]; then
      echo "docker: dockerd did not start (see $home/dockerd-*.log)"
      return 0
    fi
  fi
  export DOCKER_HOST="unix://$sock"

  if ! docker image inspect "$image" >/dev/null 2>&1; then
    if [ ! -s "$tarball" ]; then
      echo "making the base image rootfs with debootstrap (once; cached in $tarball)"
      local rootfs
      rootfs=$(mktemp -d)
      if debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$rootfs" \
        http://deb.debian.org/debian >"$home/debootstrap.log" 2>&1; then
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
        chmod 755 "$rootfs"  # mktemp made it 0700: the image's / must be traversable by non-root users
        tar -C "$rootfs" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
      else
        echo "docker: debootstrap failed (see $home/debootstrap.log)"
      fi
      rm -rf "$rootfs"
    fi
    [ -s "$tarball" ] && docker import --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
      "$tarball" "$image" >/dev/null
  fi
  if docker image inspect "$image" >/dev/null 2>&1; then
    export PACK_TEST_BASE_IMAGE="$image"
    echo "docker: engine at $DOCKER_HOST, base image $image"
  fi
}

pack_docker_service || true
