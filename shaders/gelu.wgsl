// gelu.wgsl — GELU for training, forward, in one launch: x · (1 + erf(x / √2)) / 2, Burn's exact
// (erf) GELU. Burn's path is five launches (divide, erf, add, multiply, divide) over the experts'
// `[E, N, h]` hidden activations, the update's largest element-wise tensor.
//
// Bindings (group 0, contiguous):
//   0 x     [len] f32, read   the input
//   1 y     [len] f32, write  GELU(x)
//   2 sizes [1]   u32, read   len (read at run time: one pipeline serves every shape)
// Template variables: {{ workgroup_size }}; `gelu_functions` is `include/gelu.wgsl` (erf and
//   GELU, shared with `expert_mix.wgsl`), filled in by aha-kernels.
// Dispatch: one invocation per element, workgroups along x then y (x · y · workgroup_size ≥ len).
// Reference: `burn::tensor::activation::gelu` (`aha_kernels::gelu::gelu_reference`); within 1e-6.


@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> sizes: array<u32>;

{{ gelu_functions }}

{{ one_invocation_per_item }}

fn one_item(index: u32) {
    y[index] = gelu(x[index]);
}
