// matmul_tiled.wgsl — C = A · B for row-major f32 matrices: the kernel `cargo xtask bench` and the
// page's bench panel time to measure this adapter's matmul peak (what the GRPO update's achieved
// rate is divided by). Run through wgpu directly, on the device Burn uses; not part of training.
//
// Bindings (group 0):
//   0 dims  uniform {m, k, n, _pad: u32}
//   1 a     [m, k] f32, read
//   2 b     [k, n] f32, read
//   3 c     [m, n] f32, write
// Template variables: none.
// Dispatch: (ceil(n / 64), ceil(m / 64), 1) workgroups of 16 × 16 threads.
// Reference: `aha_kernels::matmul_peak::matmul_reference` (a plain triple loop); the product must
//   match it within 1e-3 relative to the largest |c|.
//
// Each workgroup computes a 64 × 64 block of C, each thread a 4 × 4 block of it from registers,
// staging 64 × 16 of A and 16 × 64 of B in workgroup memory per step along k: 16 multiply-adds per
// pair of workgroup-memory loads instead of 1 in the naive kernel.

struct Dims {
  m: u32,
  k: u32,
  n: u32,
  _pad: u32,
}

const BM: u32 = 64u;
const BN: u32 = 64u;
const BK: u32 = 16u;
const TM: u32 = 4u;
const TN: u32 = 4u;
const THREADS: u32 = 256u;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

var<workgroup> tile_a: array<f32, 1024>; // [BM][BK]
var<workgroup> tile_b: array<f32, 1024>; // [BK][BN]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_id) local: vec3<u32>) {
  let thread = local.y * 16u + local.x;
  let block_row = group.y * BM;
  let block_col = group.x * BN;
  var acc: array<f32, 16>;
  var a_reg: array<f32, 4>;
  var b_reg: array<f32, 4>;
  for (var k0 = 0u; k0 < dims.k; k0 += BK) {
    for (var load = 0u; load < 4u; load++) {
      let e = thread + load * THREADS;
      let ar = block_row + e / BK;
      let ac = k0 + e % BK;
      var av = 0.0;
      if (ar < dims.m && ac < dims.k) {
        av = a[ar * dims.k + ac];
      }
      tile_a[e] = av;
      let br = k0 + e / BN;
      let bc = block_col + e % BN;
      var bv = 0.0;
      if (br < dims.k && bc < dims.n) {
        bv = b[br * dims.n + bc];
      }
      tile_b[e] = bv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      for (var i = 0u; i < TM; i++) {
        a_reg[i] = tile_a[(local.y * TM + i) * BK + kk];
      }
      for (var j = 0u; j < TN; j++) {
        b_reg[j] = tile_b[kk * BN + local.x * TN + j];
      }
      for (var i = 0u; i < TM; i++) {
        for (var j = 0u; j < TN; j++) {
          acc[i * TN + j] += a_reg[i] * b_reg[j];
        }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < TM; i++) {
    for (var j = 0u; j < TN; j++) {
      let row = block_row + local.y * TM + i;
      let col = block_col + local.x * TN + j;
      if (row < dims.m && col < dims.n) {
        c[row * dims.n + col] = acc[i * TN + j];
      }
    }
  }
}
