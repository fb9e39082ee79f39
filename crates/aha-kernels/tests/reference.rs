//! The plain-tensor references on the CPU backend: what the kernels must match, checked on hand-made
//! inputs and against the distribution they sample from.

use aha_kernels::router::router_top_k_reference;
use aha_kernels::sample::{DecodeStep, keep_top_k, sample_step_reference, uniform, uniforms};
use burn::tensor::{Device, Int, Tensor};

fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap()
}

fn ints<const D: usize>(t: Tensor<D, Int>) -> Vec<i64> {
    t.into_data().try_into_vec_as::<i64>().unwrap()
}

const STEP: DecodeStep =
    DecodeStep { temperature: 1.0, top_k: 0, seed: 0, step: 0, max_steps: 10, stop_token: 9, pad_token: 8 };

#[test]
fn router_picks_the_largest_and_breaks_ties_low() {
    let device = Device::flex();
    let ninf = f32::NEG_INFINITY;
    let logits = Tensor::<2>::from_floats(
        [[0.1, 0.6, 0.2, 0.1], [0.25, 0.25, 0.25, 0.25], [ninf, ninf, 0.3, 0.7], [0.5, ninf, ninf, ninf]],
        &device,
    );
    let top1 = router_top_k_reference(logits.clone(), 1);
    assert_eq!(ints(top1.indices.clone()), [1, 0, 3, 0]);
    let top2 = router_top_k_reference(logits, 2);
    // A -inf logit still ranks above "already chosen": the last row gets two distinct experts.
    assert_eq!(ints(top2.indices.clone()), [1, 2, 0, 1, 3, 2, 0, 1]);
    #[rustfmt::skip]
    assert_eq!(floats(top2.selected()), [
        0.0, 1.0, 1.0, 0.0,
        1.0, 1.0, 0.0, 0.0,
        0.0, 0.0, 1.0, 1.0,
        1.0, 1.0, 0.0, 0.0,
    ]);
}

#[test]
fn gates_are_probabilities_for_top1_and_renormalised_for_top2() {
    let device = Device::flex();
    let logits = Tensor::<2>::from_floats([[0.1f32.ln(), 0.6f32.ln(), 0.3f32.ln()]], &device);
    let g1 = floats(router_top_k_reference(logits.clone(), 1).dense_weights());
    assert!(g1[0] == 0.0 && (g1[1] - 0.6).abs() < 1e-6 && g1[2] == 0.0, "{g1:?}");
    let g2 = floats(router_top_k_reference(logits, 2).dense_weights());
    assert!((g2[1] - 2.0 / 3.0).abs() < 1e-6 && (g2[2] - 1.0 / 3.0).abs() < 1e-6 && g2[0] == 0.0);
}

#[test]
fn uniform_draws_are_a_fixed_function_of_seed_step_and_row() {
    let draws: Vec<f32> = (0..1000).map(|i| uniform(7, i / 10, i % 10)).collect();
    assert!(draws.iter().all(|&u| (0.0..1.0).contains(&u)));
    assert_eq!(draws, (0..1000).map(|i| uniform(7, i / 10, i % 10)).collect::<Vec<_>>());
    assert_ne!(uniform(7, 0, 0), uniform(8, 0, 0));
    assert_ne!(uniform(7, 0, 0), uniform(7 + (1 << 32), 0, 0), "the seed's high half counts");
    // Mean and variance of U[0, 1): 1/2 and 1/12.
    let n = 100_000;
    let all: Vec<f64> = (0..n).map(|i| uniform(3, i / 100, i % 100) as f64).collect();
    let mean = all.iter().sum::<f64>() / n as f64;
    let var = all.iter().map(|u| (u - mean).powi(2)).sum::<f64>() / n as f64;
    assert!((mean - 0.5).abs() < 0.005 && (var - 1.0 / 12.0).abs() < 0.002, "{mean} {var}");
}

#[test]
fn sampling_follows_the_softmax() {
    let device = Device::flex();
    let rows = 20_000;
    let row = [2.0f32, 1.0, 0.0, -1.0, 0.5];
    let logits = Tensor::<2>::from_floats([row], &device).expand([rows, 5]);
    let step = DecodeStep { temperature: 0.8, ..STEP };
    let finished = Tensor::<2, Int>::zeros([rows, 1], &device);
    let sampled = sample_step_reference(logits, finished, &step, uniforms(11, 0, rows, &device));
    let tokens = ints(sampled.tokens);
    let expected = softmax(&row, 0.8);
    let mut counts = [0usize; 5];
    for &t in &tokens {
        counts[t as usize] += 1;
    }
    assert!(chi_square(&counts, &expected) < 18.47, "counts {counts:?}"); // 4 dof, 0.999 quantile
    for (t, lp) in tokens.iter().zip(floats(sampled.logprobs)).take(50) {
        assert!((lp.exp() as f64 - expected[*t as usize]).abs() < 1e-5);
    }
}

#[test]
fn top_k_keeps_the_k_largest_and_top_1_is_greedy() {
    let device = Device::flex();
    let logits = Tensor::<2>::from_floats([[0.1, 3.0, -2.0, 2.0, 1.0], [5.0, 5.0, 1.0, 0.0, 2.0]], &device);
    let finite: Vec<bool> = floats(keep_top_k(logits, 2)).iter().map(|v| v.is_finite()).collect();
    assert_eq!(finite, [false, true, false, true, false, true, true, false, false, false]);
    let logits = Tensor::<2>::from_floats([[0.1, 3.0, -2.0, 2.0]], &device);
    for u in [0.0, 0.5, 0.999] {
        let finished = Tensor::<2, Int>::zeros([1, 1], &device);
        let step = DecodeStep { top_k: 1, ..STEP };
        let sampled =
            sample_step_reference(logits.clone(), finished, &step, Tensor::full([1, 1], u, &device));
        assert_eq!(ints(sampled.tokens), [1]);
    }
}

#[test]
fn finished_rows_emit_padding_and_rows_finish_on_stop_or_the_last_step() {
    let device = Device::flex();
    // Row 0 already finished; row 1 greedily emits the stop token 9; row 2 emits 3.
    let mut rows = [[0.0f32; 10]; 3];
    rows[1][9] = 5.0;
    rows[2][3] = 5.0;
    let logits = Tensor::<2>::from_floats(rows, &device);
    let finished = Tensor::<2, Int>::from_ints([[1], [0], [0]], &device);
    let greedy = DecodeStep { temperature: 0.0, ..STEP };
    let u = Tensor::zeros([3, 1], &device);
    let sampled = sample_step_reference(logits.clone(), finished.clone(), &greedy, u.clone());
    assert_eq!(ints(sampled.tokens), [8, 9, 3]);
    assert_eq!(ints(sampled.finished), [1, 1, 0]);
    assert_eq!(floats(sampled.logprobs)[0], 0.0);
    let last = DecodeStep { step: 9, ..greedy };
    assert_eq!(ints(sample_step_reference(logits, finished, &last, u).finished), [1, 1, 1]);
}

pub fn softmax(row: &[f32], temperature: f64) -> Vec<f64> {
    let z: Vec<f64> = row.iter().map(|&l| (l as f64 / temperature).exp()).collect();
    let total: f64 = z.iter().sum();
    z.iter().map(|v| v / total).collect()
}

pub fn chi_square(counts: &[usize], expected: &[f64]) -> f64 {
    let n: usize = counts.iter().sum();
    counts.iter().zip(expected).map(|(&c, &p)| (c as f64 - p * n as f64).powi(2) / (p * n as f64)).sum()
}

#[test]
fn sparse_experts_equal_the_dense_formula_with_their_gradients() {
    use aha_kernels::KernelChoice;
    use aha_kernels::experts::{expert_mix_dense, expert_mix_sparse};
    use burn::tensor::Distribution;
    let device = Device::flex().autodiff();
    device.seed(3);
    let (n, d, h, e) = (37, 8, 16, 4);
    for k in [1, 2] {
        let normal = Distribution::Normal(0.0, 1.0);
        let x = Tensor::<2>::random([n, d], normal, &device).require_grad();
        let logits = Tensor::<2>::random([n, e], normal, &device).require_grad();
        let w_in = Tensor::<3>::random([e, d, h], normal, &device).require_grad();
        let w_out = Tensor::<3>::random([e, h, d], normal, &device).require_grad();
        // Two graphs from the same leaves: Burn consumes a graph's tape on backward.
        let gate = router_top_k_reference(logits.clone(), k);
        let sparse =
            expert_mix_sparse(&x, &gate, &w_in, &w_out, KernelChoice::Auto).expect("runs on the CPU");
        let gate = router_top_k_reference(logits.clone(), k);
        let dense = expert_mix_dense(
            x.clone(),
            gate.dense_weights(),
            w_in.clone(),
            w_out.clone(),
            KernelChoice::Auto,
        );
        let close = |a: Vec<f32>, b: Vec<f32>, what: &str| {
            let largest = b.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
            let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
            assert!(worst <= 1e-5 * largest, "k = {k}, {what}: off by {worst} of {largest}");
        };
        close(floats(sparse.clone().inner()), floats(dense.clone().inner()), "output");
        // A weighted sum, so every output element's gradient differs.
        let weights = Tensor::<2>::random([n, d], normal, &device);
        let grads_sparse = (sparse * weights.clone()).sum().backward();
        let grads_dense = (dense * weights).sum().backward();
        close(floats(x.grad(&grads_sparse).unwrap()), floats(x.grad(&grads_dense).unwrap()), "dx");
        close(
            floats(logits.grad(&grads_sparse).unwrap()),
            floats(logits.grad(&grads_dense).unwrap()),
            "dlogits",
        );
        close(floats(w_in.grad(&grads_sparse).unwrap()), floats(w_in.grad(&grads_dense).unwrap()), "dw_in");
        close(
            floats(w_out.grad(&grads_sparse).unwrap()),
            floats(w_out.grad(&grads_dense).unwrap()),
            "dw_out",
        );
    }
}
