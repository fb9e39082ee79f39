// token_logprobs.wgsl — each row's log-probability of its target token, log softmax(logits)[target],
// with the row's log-sum-exp and entropy, in one launch. Burn's path is a log-softmax (max, subtract,
// exp, sum, log, subtract) and a gather, and the update's entropy another softmax and log-softmax;
// the vocabulary is small (50 tokens) and the rows many (an update's every position).
//
// Bindings (group 0, contiguous):
//   0 logits  [rows, vocab] f32, read
//   1 targets [rows]        i32, read   the token whose log-probability is wanted
//   2 logp    [rows]        f32, write  logits[target] − lse
//   3 lse     [rows]        f32, write  log Σ exp(logits) (the backward pass recomputes from it)
//   4 entropy [rows]        f32, write  −Σ p log p = log Σ exp(l − max) − Σ p · (l − max)
//   5 sizes   [2]           u32, read   rows, vocab (run-time: one pipeline for every shape)
// Template variables: {{ workgroup_size }}.
// Dispatch: one invocation per row, workgroups along x then y (x · y · workgroup_size ≥ rows).
// Reference: `aha_kernels::logprobs::token_logprobs_reference` and `token_entropy_reference`
//   (Burn's log_softmax, gather, softmax); within 1e-5.


@group(0) @binding(0) var<storage, read_write> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> targets: array<i32>;
@group(0) @binding(2) var<storage, read_write> logp: array<f32>;
@group(0) @binding(3) var<storage, read_write> lse: array<f32>;
@group(0) @binding(4) var<storage, read_write> entropy: array<f32>;
@group(0) @binding(5) var<storage, read_write> sizes: array<u32>;

{{ one_invocation_per_item }}

fn one_item(row: u32) {
    let vocab = sizes[1];
    let base = row * vocab;
    var largest = logits[base];
    for (var v = 1u; v < vocab; v++) {
        largest = max(largest, logits[base + v]);
    }
    // Σ exp(l − max) and Σ exp(l − max) · (l − max), in one pass. The entropy uses the shifted
    // logits: lse − Σ p · l would cancel two large numbers when the logits are large.
    var total = 0.0;
    var weighted = 0.0;
    for (var v = 0u; v < vocab; v++) {
        let shifted = logits[base + v] - largest;
        let e = exp(shifted);
        total += e;
        weighted += e * shifted;
    }
    let log_total = log(total);
    lse[row] = largest + log_total;
    logp[row] = logits[base + u32(targets[row])] - (largest + log_total);
    entropy[row] = log_total - weighted / total;
}
