// token_logprobs_backward.wgsl — the logits' gradient of `token_logprobs.wgsl`'s log-probabilities,
// one invocation per logit: d logits[r, v] = grad[r] · ([v = target[r]] − exp(logits[r, v] − lse[r])).
// Burn's path is the backward of a gather and of a log-softmax, about eight launches.
//
// Bindings (group 0, contiguous):
//   0 logits  [rows, vocab] f32, read   the forward's input
//   1 targets [rows]        i32, read
//   2 lse     [rows]        f32, read   the forward's log-sum-exp
//   3 grad    [rows]        f32, read   the loss's gradient with respect to each log-probability
//   4 dlogits [rows, vocab] f32, write
//   5 sizes   [2]           u32, read   rows · vocab (the logits, one invocation each), vocab
// Template variables: {{ workgroup_size }}.
// Dispatch: one invocation per logit, workgroups along x then y (x · y · workgroup_size ≥ rows · vocab).
// Reference: the gradient autodiff derives for `aha_kernels::logprobs::token_logprobs_reference`;
//   within 1e-5.


@group(0) @binding(0) var<storage, read_write> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> targets: array<i32>;
@group(0) @binding(2) var<storage, read_write> lse: array<f32>;
@group(0) @binding(3) var<storage, read_write> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(5) var<storage, read_write> sizes: array<u32>;

{{ one_invocation_per_item }}

fn one_item(index: u32) {
    let vocab = sizes[1];
    let row = index / vocab;
    let hit = select(0.0, 1.0, index - row * vocab == u32(targets[row]));
    dlogits[index] = grad[row] * (hit - exp(logits[index] - lse[row]));
}
