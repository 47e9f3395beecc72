#!/usr/bin/env bash
# Runs the WebGPU tests on every driver fluxion must be right on (`npm run test:webgpu-drivers`):
#   1. Dawn's default backend (Vulkan: Mesa's lavapipe on a machine without a GPU);
#   2. Dawn's OpenGL ES backend on the system's Mesa;
#   3. Dawn's OpenGL ES backend on Debian 12's Mesa 22.3, whose llvmpipe stops shader loops after
#      65,535 iterations: the start-up self-check must leave that adapter out (devices() = cpu).
# Step 3 unpacks Mesa 22's EGL and DRI libraries (apt-get download, no install) into a cache folder
# and points the loaders at them; it is skipped with a note where apt-get cannot fetch them.
set -euo pipefail
cd "$(dirname "$0")/.."
run() { echo "== $1"; shift; env "$@" npx vitest run test/webgpu test/conv/webgpu.test.ts test/indexing/webgpu.test.ts; }

run "default backend" FLUXION_WEBGPU_BACKEND=
run "OpenGL ES, system Mesa" FLUXION_WEBGPU_BACKEND=opengles

MESA22_VERSION="${MESA22_VERSION:-22.3.6-1+deb12u2}"
cache="${MESA22_DIR:-$HOME/.cache/fluxion-mesa22}"
if [ ! -f "$cache/usr/share/glvnd/egl_vendor.d/50_mesa.json" ]; then
  tmp="$(mktemp -d)"
  if (cd "$tmp" && apt-get download "libegl-mesa0=$MESA22_VERSION" "libgl1-mesa-dri=$MESA22_VERSION" "libglapi-mesa=$MESA22_VERSION" "libgbm1=$MESA22_VERSION") >/dev/null 2>&1; then
    mkdir -p "$cache"
    for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$cache"; done
  else
    echo "== Mesa 22 OpenGL ES: skipped (apt-get could not download Mesa $MESA22_VERSION)"
    rm -rf "$tmp"
    exit 0
  fi
  rm -rf "$tmp"
fi
lib="$cache/usr/lib/x86_64-linux-gnu"
run "OpenGL ES, Mesa 22" FLUXION_WEBGPU_BACKEND=opengles LD_LIBRARY_PATH="$lib" LIBGL_DRIVERS_PATH="$lib/dri" \
  __EGL_VENDOR_LIBRARY_FILENAMES="$cache/usr/share/glvnd/egl_vendor.d/50_mesa.json" FLUXION_EXPECT_NO_WEBGPU=1
