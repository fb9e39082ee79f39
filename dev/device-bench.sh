#!/usr/bin/env bash
# dev/device-bench.sh — Aha's native wgpu bench on a borrowed GPU machine, in one call.
#
# Prepare here: `cargo xtask device-pack` (a stripped, gzipped release `aha` and the Vulkan/GL loaders in
# .device/, ignored by git). Then, with the device tool:
#   run(command = "bash dev/device-bench.sh", carry = [".device"], timeout_s = 540)
# Figures go to $OUT (the tool brings them back) or, run here as a dry run, to report/device/:
# bench-native-default.json and bench-native-tiny.json (`aha bench --backend wgpu`: the cold start
# to the first GRPO step, step time split into rollout and update, tokens/s, the update's matmul
# rate against our tiled matmul and Burn's at its shape), and device-bench.log.
#
# The page's headless-Chromium bench is not here: that machine has no browser and nothing can be
# fetched there, and Debian's chromium-headless-shell package alone (64 MB) fills a call's 64 MiB.
set -uo pipefail
out="${OUT:-report/device}"
mkdir -p "$out"
exec > >(tee "$out/device-bench.log") 2>&1

if ! ldconfig -p | grep -q 'libvulkan\.so\.1 '; then
  echo "unpacking the Vulkan and GL loaders"
  for deb in .device/gl/*.deb; do dpkg -x "$deb" /; done
  ldconfig
fi
# The NVIDIA driver's Vulkan ICD, where the device tool's notes say it is.
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd"; fi
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>/dev/null || echo "(no nvidia-smi)"

aha=/tmp/aha-device
gunzip -c .device/aha.gz > "$aha" && chmod +x "$aha" || exit 1

status=0
for preset in default tiny; do
  echo "== aha bench --backend wgpu --preset $preset"
  timeout 240 "$aha" bench --backend wgpu --preset "$preset" --steps 10 --warmup 3 \
    --checkpoint web/public/base-model --out "$out/bench-native-$preset.json" || status=1
done
exit $status
