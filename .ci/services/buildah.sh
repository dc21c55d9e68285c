# buildah for the daemon-less build tests (sourced by .ci/run; it must not fail the run).
#
# Installs Debian's buildah, gives it a storage of its own under $PACK_CI_CACHE/buildah (overlay where the
# kernel lets us mount overlays, else vfs), chroot isolation (no runc or user namespaces needed), and
# exports what buildah and the tests read:
#   CONTAINERS_STORAGE_CONF   the storage.conf written here
#   BUILDAH_ISOLATION         chroot
# The tests import their base image into this storage from the Docker engine (docker save) once.
# Without buildah the buildah tests skip and say why.

pack_buildah_service() {
  local cache="${PACK_CI_CACHE:-$HOME/.cache/pack-ci}"
  if ! command -v buildah >/dev/null 2>&1; then
    echo "installing buildah (Debian package)"
    { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah >/dev/null; } \
      || { echo "buildah: cannot install it; the buildah tests will be skipped"; return 0; }
  fi
  local home="$cache/buildah" driver conf
  mkdir -p "$home"
  for driver in overlay vfs; do
    conf="$home/storage-$driver.conf"
    printf '[storage]\ndriver = "%s"\ngraphroot = "%s"\nrunroot = "%s"\n' \
      "$driver" "$home/storage-$driver" "/run/pack-ci-buildah-$driver" >"$conf"
    if CONTAINERS_STORAGE_CONF="$conf" BUILDAH_ISOLATION=chroot buildah images >/dev/null 2>"$home/check-$driver.log" \
      && ctr=$(CONTAINERS_STORAGE_CONF="$conf" buildah from scratch 2>>"$home/check-$driver.log") \
      && CONTAINERS_STORAGE_CONF="$conf" buildah rm "$ctr" >/dev/null 2>&1; then
      export CONTAINERS_STORAGE_CONF="$conf" BUILDAH_ISOLATION=chroot
      # Earlier runs' working containers and untagged layers go: the storage holds one run's worth.
      buildah rm -a >/dev/null 2>&1 || true
      buildah rmi --prune >/dev/null 2>&1 || true
      echo "buildah: $(buildah --version | cut -d' ' -f3) with $driver storage in $home"
      return 0
    fi
  done
  echo "buildah: no storage driver works here (see $home/check-*.log); the buildah tests will be skipped"
}

pack_buildah_service || true
