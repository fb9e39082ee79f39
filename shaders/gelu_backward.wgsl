// gelu_backward.wgsl — GELU for training, backward, in one launch: the input's gradient with the
// derivative Burn's autodiff uses (that of GELU's tanh approximation), so that training on wgpu
// and on the CPU backend follow the same formula. Burn's path is sixteen launches.
//   inner1 = 0.0356774 x³ + 0.797885 x,   inner2 = 0.0535161 x³ + 0.398942 x,
//   dx = (0.5 tanh(inner1) + inner2 (1 − tanh²(inner1)) + 0.5) · grad
//
// Bindings (group 0, contiguous):
//   0 x     [len] f32, read   the forward's input
//   1 grad  [len] f32, read   the loss's gradient with respect to GELU(x)
//   2 dx    [len] f32, write  the loss's gradient with respect to x
//   3 sizes [1]   u32, read   len
// Template variables and dispatch: as `gelu.wgsl`.
// Reference: the gradient autodiff derives for `burn::tensor::activation::gelu`; within 1e-5.


@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<storage, read_write> sizes: array<u32>;

{{ one_invocation_per_item }}

fn one_item(index: u32) {
    let v = x[index];
    let cube = v * v * v;
    let inner1 = cube * 0.0356774 + v * 0.797885;
    let inner2 = cube * 0.0535161 + v * 0.398942;
    // tanh is ±1 in f32 beyond ±9; the clamp keeps a large input from overflowing inside tanh.
    let t = tanh(clamp(inner1, -15.0, 15.0));
    let sech = 1.0 - t * t;
    dx[index] = (t * 0.5 + (inner2 * sech + 0.5)) * grad[index];
}
